"""Server-rendered pages served by the API process: the privacy center (/privacy) for users
and the staff console (/console). They call the same ``models`` functions as the GraphQL
resolvers, and sign in to the same sessions (``models.accounts.sessions``), carried in a
cookie instead of the Authorization header."""
