"""Pagination and sorting parameters shared by the list endpoints."""

from dataclasses import dataclass

from reference_api.errors import VALIDATION_DETAIL, FieldError, ValidationFailed

# OWASP API4:2023 (unrestricted resource consumption): a client must not be able to
# ask for the whole table in one page.
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# The offset is page x limit: unbounded, a huge page number overflows the database's
# integer (found by the schemathesis run) and a deep one scans the whole table.
MAX_PAGE = 10_000


@dataclass(frozen=True)
class PageRequest:
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool


def parse_sort(raw: str, allowed: frozenset[str]) -> list[SortKey]:
    """Parse ``-created_at,name`` into sort keys, accepting only whitelisted fields.

    The whitelist is what keeps a query parameter from choosing arbitrary columns
    (or expressions) to order by.
    """
    keys: list[SortKey] = []
    for part in raw.split(","):
        name = part.strip()
        descending = name.startswith("-")
        name = name.removeprefix("-")
        if name not in allowed:
            shown = name or "(empty)"
            raise ValidationFailed(
                VALIDATION_DETAIL,
                errors=[
                    FieldError(
                        field="query.sort",
                        message=f"cannot sort by {shown!r}; allowed fields: " + ", ".join(sorted(allowed)),
                    )
                ],
            )
        keys.append(SortKey(field=name, descending=descending))
    return keys
