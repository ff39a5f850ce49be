"""Every window action declared once, as data; menus, toolbar, welcome page and help are built from it.

An :class:`ActionSpec` says an action's id, text, keys, tip, icon, where it appears (menu
and group, toolbar slot, welcome page) and when it is enabled (a predicate over an
:class:`ActionState`). :func:`build_actions` turns the table into ``QAction`` objects
bound to handlers by id; :func:`build_menus` and :func:`build_toolbar` lay them out;
:func:`update_enabled` applies the predicates, and :func:`disabled_reason` says in words
why an action cannot apply now (the window posts it when its key is pressed anyway).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Mapping, Optional

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QStyle, QToolBar, QWidget


@dataclass(frozen=True)
class ActionState:
    """What enablement depends on; built by the window from its controllers."""

    has_session: bool = False
    has_project: bool = False
    busy: bool = False
    on_clusters: bool = True  # the Clusters tab is shown (the Suspects tab owns A, X, Delete ...)
    n_clusters: int = 0  # selected clusters (0 off the Clusters tab)
    n_images: int = 0  # selected images (0 off the Clusters tab)
    has_current: bool = False  # a cluster is shown
    has_labels: bool = False  # enough given labels to search for mislabeled images
    can_undo: bool = False
    can_redo: bool = False
    locked: bool = False  # a pipeline run will replace the shown review: it is read-only meanwhile
    read_only: bool = False  # another window or program holds the project: the edit actions are off


#: The actions that change the review (off while :attr:`ActionState.read_only`).
EDIT_ACTIONS = frozenset({"run", "undo", "redo", "merge", "split", "move", "move_new", "reject", "name",
                          "label_images", "accept", "accept_suggestion", "bulk_accept", "grow",
                          "name_siblings"})


def enabled(spec: "ActionSpec", state: ActionState) -> bool:
    """``spec.enabled_when(state)``, and never an edit on a read-only review."""
    return bool(spec.enabled_when(state)) and not (state.read_only and spec.id in EDIT_ACTIONS)


def _always(s: ActionState) -> bool:
    return True


def _idle(s: ActionState) -> bool:
    return not s.busy


def _session(s: ActionState) -> bool:
    return s.has_session and not s.locked


def _clusters(s: ActionState) -> bool:
    return _session(s) and s.n_clusters >= 1


def _images(s: ActionState) -> bool:
    return _session(s) and s.n_images >= 1


@dataclass(frozen=True)
class ActionSpec:
    """One action: identity, text, keys, tip, placement and enablement."""

    id: str
    text: str
    keys: tuple[str, ...] = ()
    tip: str = ""
    menu: Optional[str] = None  # one of MENUS
    group: int = 0  # a separator goes between groups of one menu
    toolbar: Optional[int] = None  # slot: sorted; a separator where the tens change
    icon: Optional[str] = None  # a QStyle.StandardPixmap name
    welcome: bool = False  # a button on the welcome page
    enabled_when: Callable[[ActionState], bool] = _always
    checkable: bool = False  # a toggle (the handler reads the action's checked state)
    needs: str = ""  # what the action needs, said when its key is pressed while it is disabled


MENUS = ("&File", "&Edit", "&Review", "&View", "&Help")
#: Not an action: the File menu's "Open recent" submenu, placed after this action.
RECENT_AFTER = "demo"

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("open_folder", "&Open folder…", ("Ctrl+O",), "Open a folder of images", "&File", 0, 10,
               "SP_DirOpenIcon", True, _idle),
    ActionSpec("open_session", "Open &session…", ("Ctrl+Shift+O",), "Open a saved review session", "&File", 0, 11,
               "SP_FileDialogStart", True, _idle),
    ActionSpec("demo", "Open the &demo set", (), "Cluster the built-in synthetic traffic signs", "&File", 0,
               welcome=True, enabled_when=_idle),
    ActionSpec("run", "&Run pipeline…", ("Ctrl+R",), "Run the pipeline on the open folder with new settings",
               "&File", 1, 12, "SP_MediaPlay", enabled_when=lambda s: s.has_session and not s.busy and not s.locked),
    ActionSpec("cancel", "&Cancel run", ("Ctrl+.",), "Cancel the running job", "&File", 1, icon="SP_BrowserStop",
               enabled_when=lambda s: s.busy, needs="no job is running"),
    ActionSpec("save_as", "Save session &as…", ("Ctrl+Shift+S",), "Write the review session to a file of your choice",
               "&File", 2, icon="SP_DialogSaveButton", enabled_when=_session),
    ActionSpec("clear_selection", "C&lear selection", ("Esc",), "Clear the selected images (again: the selected clusters)",
               "&Edit", 1, enabled_when=lambda s: _session(s) and s.on_clusters and (s.n_images > 0 or s.n_clusters > 0),
               needs="nothing is selected"),
    ActionSpec("taxonomy", "Load &taxonomy CSV…", (), "Use your own class list (id,name[,icon])", "&File", 2),
    ActionSpec("relink", "Relin&k folder…", (), "Point the review at its images' new folder after they were moved",
               "&File", 2, enabled_when=lambda s: _session(s) and not s.busy and not s.locked,
               needs="open a review first (and wait for the running job)"),
    ActionSpec("export_csv", "&Export CSV…", ("Ctrl+E",), "One row per image with its cluster and class", "&File", 3,
               40, enabled_when=_session),
    ActionSpec("export_copy", "Export folder tree (&copies)…", ("Ctrl+Shift+E",), "Copy images into one folder per class",
               "&File", 3, enabled_when=_session),
    ActionSpec("export_link", "Export folder tree (&links)…", (), "Link images into one folder per class", "&File", 3,
               enabled_when=_session),
    ActionSpec("quit", "&Quit", ("Ctrl+Q",), "Close the window (the session is already saved)", "&File", 4),
    ActionSpec("undo", "&Undo", ("Ctrl+Z",), "Undo the last edit", "&Edit", 0, 20, "SP_ArrowBack",
               enabled_when=lambda s: s.can_undo and not s.locked, needs="nothing to undo"),
    ActionSpec("redo", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo the edit", "&Edit", 0, 21, "SP_ArrowForward",
               enabled_when=lambda s: s.can_redo and not s.locked, needs="nothing to redo"),
    ActionSpec("history", "Review &history…", ("Ctrl+H",),
               "Every edit with who and when, going back to any earlier state, and earlier reviews of the folder",
               "&Edit", 0, enabled_when=_session, needs="open a folder first"),
    ActionSpec("select_all", "Select all &images", ("Ctrl+A",), "Select every image of the cluster", "&Edit", 1,
               enabled_when=_session),
    ActionSpec("merge", "&Merge clusters", ("M",), "Merge the selected clusters", "&Review", 0, 30,
               enabled_when=lambda s: _session(s) and s.n_clusters >= 2,
               needs="select at least two clusters in the table (Ctrl/Shift+click)"),
    ActionSpec("split", "&Split cluster…", ("S",), "Split the cluster into n parts", "&Review", 0, 31,
               enabled_when=lambda s: _session(s) and s.has_current and not s.busy, needs="select a cluster in the table first"),
    ActionSpec("move", "Mo&ve images to…", ("V",), "Move the selected images to another cluster", "&Review", 0, 32,
               enabled_when=_images, needs="select images in the grid first (click, Ctrl/Shift+click, Ctrl+A)"),
    ActionSpec("move_new", "Move images to a &new cluster", ("N",), "Move the selected images to a new cluster",
               "&Review", 0, enabled_when=_images, needs="select images in the grid first (click, Ctrl/Shift+click, Ctrl+A)"),
    ActionSpec("reject", "&Reject images", ("X", "Delete"),
               "Mark the selected images as 'not a sign / reject' (again: undo the mark)", "&Review", 0, 33,
               enabled_when=_images, needs="select images in the grid first (click, Ctrl/Shift+click, Ctrl+A)"),
    ActionSpec("name", "&Name cluster…", ("L",),
               "Give the selected clusters a class (or type its number on the cluster table)", "&Review", 0, 34,
               enabled_when=_clusters, needs="select a cluster in the table first"),
    ActionSpec("label_images", "&Label images…", ("Shift+L",), "Give the selected images a class of their own",
               "&Review", 0, enabled_when=_images, needs="select images in the grid first (click, Ctrl/Shift+click, Ctrl+A)"),
    ActionSpec("accept", "&Accept cluster", ("A",), "Mark the selected clusters as reviewed and go to the next one",
               "&Review", 0, 35, enabled_when=_clusters, needs="select a cluster in the table first"),
    ActionSpec("accept_suggestion", "Accept su&ggestion", ("Ctrl+Return", "Ctrl+Enter"),
               "Name the selected clusters with their suggested class (the table's Suggestion column)", "&Review", 1,
               enabled_when=_clusters, needs="select a cluster in the table first"),
    ActionSpec("bulk_accept", "Accept suggestions a&bove…", ("Ctrl+Shift+Return",),
               "Accept every suggestion above a confidence, for the selected clusters or the whole set, "
               "after a preview grouped by class", "&Review", 1, enabled_when=_session, needs="open a folder first"),
    ActionSpec("name_siblings", "Name s&iblings…", ("Ctrl+Shift+N",),
               "Name at once the neighbouring clusters of a dendrogram branch that are all suggested one class "
               "(for the selected clusters or the whole set), after a preview", "&Review", 1, enabled_when=_session,
               needs="open a folder first"),
    ActionSpec("queue_next", "Next in review &queue", ("Shift+J",),
               "Go where one decision fixes the most labels: a cluster to name, or a page of suggestions to accept",
               "&Review", 1, enabled_when=_session, needs="open a folder first"),
    ActionSpec("grow", "Gro&w cluster…", ("Ctrl+G",),
               "The undecided images nearest the named cluster, in order: click the first that does not belong",
               "&Review", 1, enabled_when=lambda s: _session(s) and s.has_current, needs="select a named cluster first"),
    ActionSpec("next", "Ne&xt cluster", ("J", "Ctrl+Down"), "Select the next cluster", "&Review", 1,
               enabled_when=_session),
    ActionSpec("prev", "&Previous cluster", ("K", "Ctrl+Up"), "Select the previous cluster", "&Review", 1,
               enabled_when=_session),
    ActionSpec("suspects", "Find &mislabeled images…", ("Ctrl+Shift+M",),
               "Rank the labelled images by how likely their given label is wrong", "&Review", 2,
               enabled_when=lambda s: _session(s) and s.has_labels and s.has_project and not s.busy,
               needs="it needs images that came with labels (class folders or a label CSV) in two classes or more"),
    ActionSpec("more_like_this", "More li&ke this…", ("Shift+M",),
               "Show the images nearest the current image across all clusters, to move them into its cluster",
               "&Review", 2, enabled_when=_session, needs="open a folder first"),
    ActionSpec("view", "&View image", ("Space",), "Show the image full size", "&View", 0, enabled_when=_images,
               needs="select an image in the grid first"),
    ActionSpec("bigger", "&Bigger thumbnails", ("Ctrl+=",), "Larger thumbnails", "&View", 0),
    ActionSpec("smaller", "S&maller thumbnails", ("Ctrl+-",), "Smaller thumbnails", "&View", 0),
    ActionSpec("auto_contrast", "Auto &contrast", ("B",),
               "Stretch the contrast of thumbnails and the viewer (display only; files are not changed)", "&View", 1,
               checkable=True),
    ActionSpec("disagree_only", "Only &disagreeing labels", ("D",),
               "Show only images whose given label differs from the cluster's name or majority", "&View", 1,
               enabled_when=lambda s: s.has_session and s.has_labels and s.on_clusters, checkable=True),
    ActionSpec("help", "&Keyboard shortcuts", ("F1",), "List every shortcut", "&Help", 0, icon="SP_DialogHelpButton"),
)
SPECS = {spec.id: spec for spec in ACTIONS}
#: Shorter words on the toolbar than in the menus (the tooltip says the whole of it).
TOOLBAR_TEXT = {"merge": "Merge", "split": "Split", "move": "Move", "reject": "Reject", "name": "Name",
                "accept": "Accept", "export_csv": "Export", "open_folder": "Open", "open_session": "Session",
                "run": "Run", "undo": "Undo", "redo": "Redo"}


def build_actions(parent: QWidget, handlers: Mapping[str, Callable[[], object]]) -> dict[str, QAction]:
    """One ``QAction`` per spec, added to ``parent`` (so its keys work window-wide)."""
    missing = set(SPECS) - set(handlers)
    if missing:
        raise KeyError(f"no handler for actions: {', '.join(sorted(missing))}")
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        act = QAction(spec.text, parent)
        act.setObjectName(f"action_{spec.id}")
        act.setCheckable(spec.checkable)
        if spec.keys:
            act.setShortcuts([QKeySequence(k) for k in spec.keys])
        if spec.tip:
            keys = ", ".join(QKeySequence(k).toString() for k in spec.keys)
            act.setToolTip(f"{spec.tip} ({keys})" if keys else spec.tip)
            act.setStatusTip(spec.tip)
        if spec.icon is not None:
            act.setIcon(parent.style().standardIcon(getattr(QStyle.StandardPixmap, spec.icon)))
        if spec.id in TOOLBAR_TEXT:
            act.setIconText(TOOLBAR_TEXT[spec.id])
        handler = handlers[spec.id]
        act.triggered.connect(lambda checked=False, fn=handler: fn())
        parent.addAction(act)
        actions[spec.id] = act
    return actions


def build_menus(menubar: QMenuBar, actions: Mapping[str, QAction]) -> QMenu:
    """Fill ``menubar`` from the table; returns the (empty) "Open recent" submenu."""
    menus = {title: menubar.addMenu(title) for title in MENUS}
    recent: Optional[QMenu] = None
    last_group: dict[str, int] = {}
    for spec in ACTIONS:
        if spec.menu is None:
            continue
        menu = menus[spec.menu]
        if spec.menu in last_group and last_group[spec.menu] != spec.group:
            menu.addSeparator()
        last_group[spec.menu] = spec.group
        menu.addAction(actions[spec.id])
        if spec.id == RECENT_AFTER:
            recent = menu.addMenu("Open &recent")
    assert recent is not None
    return recent


def build_toolbar(toolbar: QToolBar, actions: Mapping[str, QAction]) -> None:
    """Add the actions with a toolbar slot, in slot order, separated by tens."""
    placed = sorted((spec.toolbar, spec.id) for spec in ACTIONS if spec.toolbar is not None)
    last = None
    for slot, action_id in placed:
        if last is not None and slot // 10 != last // 10:
            toolbar.addSeparator()
        toolbar.addAction(actions[action_id])
        last = slot


def welcome_actions(actions: Mapping[str, QAction]) -> list[QAction]:
    return [actions[spec.id] for spec in ACTIONS if spec.welcome]


def ordered(actions: Mapping[str, QAction]) -> list[QAction]:
    """The actions in table order (what the F1 help lists)."""
    return [actions[spec.id] for spec in ACTIONS]


def disabled_reason(spec: ActionSpec, state: ActionState) -> str:
    """Why ``spec`` cannot apply in ``state``, as a sentence ("" when it can)."""
    if enabled(spec, state):
        return ""
    name = spec.text.replace("&", "").rstrip(".…")
    if state.locked:
        why = "the review shown is locked while the new pipeline run goes (Cancel to get it back)"
    elif state.read_only and spec.id in EDIT_ACTIONS:
        why = "another window or program has this project open, so it is read-only here"
    elif not state.has_session and spec.enabled_when(replace(state, has_session=True, has_project=True)):
        why = "open a folder first"
    elif state.busy and spec.enabled_when(replace(state, busy=False)):
        why = "wait for the running job to finish, or cancel it"
    elif not state.on_clusters and spec.enabled_when(replace(state, on_clusters=True, n_clusters=2, n_images=1,
                                                             has_current=True)):
        why = "it works on the Clusters tab"
    else:
        why = spec.needs or "it does not apply here"
    return f"{name}: {why}"


def update_enabled(actions: Mapping[str, QAction], state: ActionState) -> None:
    for spec in ACTIONS:
        actions[spec.id].setEnabled(enabled(spec, state))
