"""Assertion helpers shared by the import tests."""


def issues(job, warnings: bool = False) -> list[tuple]:
    """(line, column, code) of a job's errors (or warnings), in line order."""
    return list(
        job.issues.filter(is_warning=warnings).order_by("line", "id").values_list("line", "column", "code")
    )


def messages(job) -> str:
    return " | ".join(job.issues.order_by("line", "id").values_list("message", flat=True))
