from django.db import migrations, models

SHOWN = 20


def refuse_paid_documents_with_a_balance(apps, schema_editor):
    """Name the documents that break the new rule rather than fail on a bare IntegrityError.

    Which is wrong, the status or the balance, only the ledger's owner can tell: nothing
    is changed here."""
    Document = apps.get_model("portfolio", "Document")
    wrong = Document.objects.filter(status="paid").exclude(balance=0).order_by("pk")
    count = wrong.count()
    if not count:
        return
    shown = ", ".join(
        f"{d.pk} ({d.external_id}, balance {d.balance})"
        for d in wrong.only("pk", "external_id", "balance")[:SHOWN]
    )
    raise RuntimeError(
        f"{count} document(s) have status 'paid' and a balance other than 0: {shown}"
        f"{' …' if count > SHOWN else ''}. Set each one's balance to 0 or its status to open "
        "(in the database, then audit it), and migrate again."
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_audit_indexes_for_bulk_writes"),
        ("portfolio", "0005_document_redundant_indexes"),
    ]

    operations = [
        migrations.RunPython(refuse_paid_documents_with_a_balance, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="document",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "paid"), _negated=True), ("balance", 0), _connector="OR"
                ),
                name="document_paid_has_no_balance",
            ),
        ),
    ]
