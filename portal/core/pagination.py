"""Page numbers for long tables."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PER_PAGE = 25


@dataclass(frozen=True)
class Pager:
    page: int
    per_page: int
    total: int

    @classmethod
    def from_query(cls, page: str | int | None, total: int, per_page: int = DEFAULT_PER_PAGE) -> Pager:
        try:
            number = max(1, int(page or 1))
        except ValueError:
            number = 1
        pages = max(1, -(-total // per_page))
        return cls(page=min(number, pages), per_page=per_page, total=total)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page
