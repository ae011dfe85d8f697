"""Turning stored comments into what one viewer may see: trees, placeholders, order and permissions.

Pure functions of rows and a `Viewer`, so the visibility rules are in one place:

* visible comments are shown to everyone;
* held comments (spam rules) are shown to their author and to moderators, with the reasons to moderators;
* hidden comments (a moderator's decision) are shown to moderators with the note;
* anything else (deleted, or held/hidden for this viewer) keeps its place as "[deleted]"/"[removed]"
  only while a reply below it is shown, so threads never lose their context; otherwise it is left out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tidings.comments.models import Comment
from tidings.comments.spam import describe
from tidings.comments.views import ArticleLabel, CommentView, HoldReason

SORTS = ("best", "new")
DELETED = "[deleted]"
REMOVED = "[removed]"
# z for an 80% confidence interval, as reddit's "best": favours well-supported scores over lucky ones.
_Z = 1.281551565545


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking, as loaded from the database for this request (never trusted from a session)."""

    id: int | None = None
    is_moderator: bool = False
    is_banned: bool = False

    @property
    def signed_in(self) -> bool:
        return self.id is not None


ANONYMOUS = Viewer()


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    deleted: bool


def wilson_lower_bound(ups: int, downs: int) -> float:
    total = ups + downs
    if total <= 0:
        return 0.0
    p = ups / total
    z2 = _Z * _Z
    centre = p + z2 / (2 * total)
    spread = _Z * math.sqrt((p * (1 - p) + z2 / (4 * total)) / total)
    return (centre - spread) / (1 + z2 / total)


def sort_key(view: CommentView, sort: str, *, top_level: bool) -> tuple[float, ...]:
    """ "best": Wilson lower bound, then raw score, then older first (ties read as a conversation).
    "new": newest first at the top level; replies stay chronological so an exchange reads downwards."""
    when = view.created_at.timestamp()
    if sort == "new":
        return (-when, -view.id) if top_level else (when, view.id)
    return (-wilson_lower_bound(view.ups, view.downs), -view.score, when, view.id)


def can_see(comment: Comment, viewer: Viewer) -> bool:
    if comment.status == "visible":
        return True
    if comment.status == "held":
        return viewer.is_moderator or (viewer.id is not None and viewer.id == comment.user_id)
    if comment.status == "hidden":
        return viewer.is_moderator
    return False


def make_view(
    comment: Comment,
    author: Author,
    viewer: Viewer,
    *,
    now: datetime,
    edit_window: timedelta,
    vote: int = 0,
    open_reports: int = 0,
) -> CommentView:
    """The viewer's view of one comment (a placeholder when they may not see its content)."""
    shown = can_see(comment, viewer)
    is_author = viewer.id is not None and viewer.id == comment.user_id
    active = viewer.signed_in and not viewer.is_banned
    placeholder = None if shown else (DELETED if comment.status == "deleted" else REMOVED)
    editable_until = comment.created_at + edit_window
    can_edit = (
        shown and is_author and active and comment.status in ("visible", "held") and now < editable_until
    )
    view = CommentView(
        id=comment.id,
        article_id=comment.article_id,
        parent_id=comment.parent_id,
        depth=comment.depth,
        status=comment.status,
        placeholder=placeholder,
        author_id=comment.user_id if shown else None,
        author_name=author.name if shown else "",
        author_deleted=author.deleted,
        body_html=comment.body_html if shown else "",
        body_markdown=comment.body_markdown if shown and (is_author or viewer.is_moderator) else "",
        created_at=comment.created_at,
        edited_at=comment.edited_at if shown else None,
        score=comment.score,
        ups=comment.ups,
        downs=comment.downs,
        viewer_vote=vote if shown else 0,
        can_reply=active and (comment.status == "visible" or (shown and comment.status == "held")),
        can_edit=can_edit,
        can_delete=shown and active and (is_author or viewer.is_moderator) and comment.status != "deleted",
        can_vote=active and not is_author and comment.status == "visible",
        can_report=active and not is_author and comment.status == "visible",
        can_moderate=viewer.is_moderator and not viewer.is_banned and comment.status != "deleted",
        editable_until=editable_until if can_edit else None,
        open_reports=open_reports if viewer.is_moderator else 0,
    )
    if viewer.is_moderator and shown:
        view.hold_reasons = hold_reasons(comment.hold_reason)
        view.hidden_reason = comment.hidden_reason
    return view


def hold_reasons(stored: str | None) -> list[HoldReason]:
    return [HoldReason(code=code, text=describe(code)) for code in (stored or "").split()]


def build_tree(
    views: Iterable[CommentView], sort: str, *, labels: dict[str, ArticleLabel] | None = None
) -> list[CommentView]:
    """Nest views under their parents, prune what holds nothing visible, and order siblings.

    A reply whose parent is not among `views` (cannot happen for one article's complete set) is treated
    as top level rather than dropped.
    """
    by_id = {view.id: view for view in views}
    children: dict[int | None, list[CommentView]] = defaultdict(list)
    for view in by_id.values():
        parent = view.parent_id if view.parent_id in by_id else None
        children[parent].append(view)

    top = [view for view in children.get(None, []) if _attach(view, children, sort)]
    if labels is not None:
        for view in top:
            view.article = labels.get(view.article_id)
    top.sort(key=lambda view: sort_key(view, sort, top_level=True))
    return top


def _attach(root: CommentView, children: dict[int | None, list[CommentView]], sort: str) -> bool:
    """Fill `replies` below `root`, bottom-up and without recursion; False when `root` is a placeholder
    with nothing shown beneath it."""
    order: list[CommentView] = []
    stack = [root]
    while stack:
        view = stack.pop()
        order.append(view)
        stack.extend(children.get(view.id, []))
    keep: dict[int, bool] = {}
    for view in reversed(order):  # children before their parents
        kept = [child for child in children.get(view.id, []) if keep[child.id]]
        kept.sort(key=lambda child: sort_key(child, sort, top_level=False))
        view.replies = kept
        keep[view.id] = not view.is_placeholder or bool(kept)
    return keep[root.id]
