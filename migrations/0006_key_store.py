from tortoise import migrations
from tortoise.migrations import operations as ops


class MovedToKeyStore(ops.DeleteModel):
    """The model now belongs to the key store's app (``migrations/keys``): gone from this
    app's state, its table left where it is. When the key store is a database apart,
    ``accord migrate`` copies the rows into it, ids kept (sealed values name their key by
    row id), and only then drops the table here (``models.keys.key_store.move_into_key_store``:
    resumable, a crash between the copy and the drop loses nothing). When the key store
    shares this database the table simply stays, now the key store's."""

    async def database_forward(self, *args, **kwargs) -> None:
        return None

    async def database_backward(self, *args, **kwargs) -> None:
        return None

class Migration(migrations.Migration):
    dependencies = [('models', '0005_sealed_fields')]

    initial = False

    operations = [
        MovedToKeyStore(name='MasterKeyCheck'),
        MovedToKeyStore(name='SubjectKey'),
    ]
