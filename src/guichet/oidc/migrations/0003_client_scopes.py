from django.db import migrations, models


class Migration(migrations.Migration):
    """Clients registered before scopes were per client keep every scope they could ask for then: nothing that
    works stops working. New clients get what `guichet oidc clients add --scope` says (openid member without)."""

    dependencies = [
        ('oidc', '0002_authentication'),
    ]

    operations = [
        migrations.AddField(
            model_name='client',
            name='scopes',
            field=models.CharField(default='openid profile email member', help_text='The scopes it may ask for, space separated (always openid); asking for another is refused', max_length=255),
            preserve_default=False,
        ),
    ]
