"""arq jobs: each a short function over ``models``; ``workers.settings`` lists them."""
