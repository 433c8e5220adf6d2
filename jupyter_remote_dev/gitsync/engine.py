"""The sync engine: ``init`` (clone or safely update) and ``cycle`` (commit, fetch, merge, push).

A cycle, under the workspace lock:

1. recover from interrupted work (stale ``index.lock``, held files, an unfinished merge);
2. commit local changes (``.gitignore`` respected, files over the size limit left out and reported);
3. fetch the sync branch (and the upstream branch) if they moved;
4. merge them; conflicts keep the server's version and put the other side's beside it;
5. commit the conflict copies, push the sync branch (never forced; a lost race merges again).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import git as gitpython

from .config import SyncSettings, strip_credentials
from .conflicts import Conflict, Holder, resolve_unmerged
from .credentials import redact
from .errors import GitSyncError
from .gitcmd import GitRunner
from .local_changes import commit_local
from .lock import SyncLock
from .state import CycleReport, load_state, now_iso, open_conflicts, save_report

log = logging.getLogger(__name__)

REMOTE = "origin"
PUSH_ATTEMPTS = 3
# no tags, no FETCH_HEAD, and no walk to label forced updates (we never show fetch output)
FETCH_OPTIONS = ("-q", "--no-tags", "--no-write-fetch-head", "--no-show-forced-updates")
MIN_LOCK_WAIT = 0.2  # rides out a status probe that holds the lock for a moment
BLOCKING_STATES = {
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or git am",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "BISECT_LOG": "a bisect",
}


class GitSyncEngine:
    """Two-way sync of one workspace with one branch of one repository."""

    def __init__(self, settings: SyncSettings, logger: logging.Logger | None = None):
        self.settings = settings.validated()
        self.workspace = Path(settings.workspace)
        self.git_dir = self.workspace / ".git"
        self.branch = settings.sync_branch
        self.log = logger or log
        self.git = GitRunner(self.settings)
        self._lock = SyncLock(self.git_dir / "remote-dev" / "sync.lock")
        self._running = False
        self._head: str | None = None  # the sync branch's commit, kept current during a cycle

    # ----- public entry points -----
    def init(self, wait: float = 0.0) -> CycleReport:
        """Create or adopt the workspace clone, check out the sync branch, then run a cycle."""
        self.workspace.mkdir(parents=True, exist_ok=True)
        if not self.git_dir.exists():
            self.git("init", "-q")
        return self._locked(self._init_body, wait)

    def cycle(self, wait: float = 0.0) -> CycleReport:
        """Run one sync cycle; raises :class:`GitSyncBusyError` if another is running."""
        if not self.git_dir.is_dir():
            raise GitSyncError(f"{self.workspace} is not a git clone yet; run init first")
        return self._locked(self._cycle_body, wait)

    def status(self) -> dict:
        """The ``git/status`` object (see internal-contracts.md)."""
        state = load_state(self.git_dir) if self.git_dir.is_dir() else {}
        ahead, behind = self._ahead_behind()
        return {
            "configured": True,
            "repo": self.settings.repo,
            "workspace": str(self.workspace),
            "branch": self.branch,
            "upstream": self.settings.upstream,
            "ahead": ahead,
            "behind": behind,
            "running": self.running,
            "last_cycle": state.get("last_cycle"),
            "conflicts": open_conflicts(self.workspace, state) if state else [],
            "skipped": state.get("skipped", []),
        }

    @property
    def running(self) -> bool:
        return self._running or self._lock.is_held_elsewhere()

    # ----- locking and reporting -----
    def _locked(self, body, wait: float) -> CycleReport:
        self._lock.acquire(max(wait, MIN_LOCK_WAIT))
        self._running = True
        report = CycleReport(started_at=now_iso())
        try:
            body(report)
        except Exception as error:
            report.result = "error"
            report.message = redact(str(getattr(error, "message", error)), self.settings.token_file)
            if isinstance(error, (GitSyncError, OSError)):
                self.log.warning("git sync failed: %s", report.message)
            else:
                self.log.error("git sync failed unexpectedly: %s", report.message, exc_info=True)
        finally:
            report.finished_at = now_iso()
            if report.result != "error":
                report.result = "conflict" if report.conflicts else "ok"
                report.message = report.message or self._summary(report)
            if self.git_dir.is_dir():
                save_report(self.git_dir, self.workspace, report)
            self._running = False
            self._lock.release()
        return report

    @staticmethod
    def _summary(report: CycleReport) -> str:
        parts = ["in sync"]
        if report.conflicts:
            parts = [f"{len(report.conflicts)} conflict(s): the server's version kept in place"]
        if report.skipped:
            parts.append(f"{len(report.skipped)} file(s) over the size limit not committed")
        return "; ".join(parts)

    def _add_conflicts(self, report: CycleReport, conflicts: list[Conflict]) -> None:
        for conflict in conflicts:
            self.log.warning("git sync conflict on %s: %s", conflict.path, conflict.kind)
            report.conflicts.append({**conflict.to_json(), "cycle": report.started_at})

    # ----- the steps -----
    def _init_body(self, report: CycleReport) -> None:
        self._ensure_remote()
        heads = self._remote_heads()
        self._fetch(heads)
        if self._head_sha() is None:
            self.git("symbolic-ref", "HEAD", f"refs/heads/{self.branch}")
            start = self._start_point(heads)
            if start:
                self._checkout_start(start, report)
        elif self._current_branch() != self.branch:
            if self.git.ok("rev-parse", "--verify", "-q", f"refs/heads/{self.branch}"):
                raise GitSyncError(
                    f"the workspace is on {self._current_branch() or 'a detached HEAD'}, "
                    f"not the sync branch {self.branch}"
                )
            self.git("checkout", "-q", "-b", self.branch)
        self._cycle_body(report, heads)

    def _cycle_body(self, report: CycleReport, heads: dict[str, str] | None = None) -> None:
        self._recover(report)
        self._check_branch()
        if heads is None:  # fetching touches no file or branch of ours: overlap it with the commit
            with ThreadPoolExecutor(1) as pool:
                fetching = pool.submit(self._fetch_remote)
                report.skipped = self._commit_local("save server changes")
                heads = fetching.result()
        else:
            report.skipped = self._commit_local("save server changes")
        for attempt in range(PUSH_ATTEMPTS):
            if attempt:
                heads = self._fetch_remote()
            self._head = self._head_sha()
            left_work = False
            for name, label in ((self.branch, "remote"), (self.settings.upstream, "upstream")):
                if name and name in heads:
                    left_work |= self._merge(heads[name], label, report)
            if left_work:
                report.skipped = self._commit_local("keep the server's versions beside conflicts")
                self._head = self._head_sha()
            if self._push(heads.get(self.branch)):
                return
            heads = None
        raise GitSyncError("the sync branch kept moving while pushing; will retry next cycle")

    def _ensure_remote(self) -> None:
        url = self.git("config", "--get", f"remote.{REMOTE}.url", check=False).text.strip()
        if not url:
            self.git("config", f"remote.{REMOTE}.url", self.settings.repo)
            self.git("config", f"remote.{REMOTE}.fetch", f"+refs/heads/*:refs/remotes/{REMOTE}/*")
        elif url != self.settings.repo:
            raise GitSyncError(
                f"the workspace is a clone of {strip_credentials(url)}, "
                f"not of {self.settings.repo}; move it aside or fix the configured repo"
            )

    def _recover(self, report: CycleReport) -> None:
        for name, what in BLOCKING_STATES.items():
            if (self.git_dir / name).exists():
                raise GitSyncError(f"{what} is in progress in the workspace; finish or abort it")
        for name in ("index.lock", "HEAD.lock", f"refs/heads/{self.branch}.lock"):
            lock = self.git_dir / name
            if not lock.exists():
                continue
            age = time.time() - lock.stat().st_mtime
            if age < self.settings.stale_lock_seconds:
                raise GitSyncError(f"another git command holds .git/{name} ({age:.0f}s old)")
            self.log.warning("removing stale .git/%s (%.0fs old)", name, age)
            lock.unlink()
        self._add_conflicts(report, Holder(self.git, self.git_dir).recover())
        merge_head = self.git_dir / "MERGE_HEAD"
        if merge_head.exists():
            their = merge_head.read_text().split()[0]
            self._add_conflicts(report, resolve_unmerged(self.git, "merge", their))
            self.git("commit", "-q", "--no-verify", "--no-edit")

    def _check_branch(self) -> None:
        head = (self.git_dir / "HEAD").read_text().strip()
        if head != f"ref: refs/heads/{self.branch}":
            current = head.removeprefix("ref: refs/heads/") if head.startswith("ref:") else None
            raise GitSyncError(
                f"the workspace is on {current or 'a detached HEAD'}, not the sync branch "
                f"{self.branch}; switch back to it to resume syncing"
            )

    def _commit_local(self, purpose: str) -> list[dict]:
        return commit_local(self.git, purpose, self.log)

    def _remote_heads(self) -> dict[str, str]:
        """``{branch: sha}`` for the sync and upstream branches on the remote."""
        wanted = [b for b in (self.branch, self.settings.upstream) if b]
        refs = [f"refs/heads/{b}" for b in wanted]
        heads = {}
        for line in self.git("ls-remote", "--heads", REMOTE, *refs).text.splitlines():
            sha, _, ref = line.partition("\t")
            if ref in refs:
                heads[ref.removeprefix("refs/heads/")] = sha
        return heads

    def _fetch(self, heads: dict[str, str]) -> None:
        """Fetch the given remote branches whose remote-tracking refs are behind."""
        refs = self._refs()
        specs = [
            f"+refs/heads/{branch}:{self._tracking(branch)}"
            for branch, sha in heads.items()
            if refs.get(self._tracking(branch)) != sha
        ]
        if specs:
            self.git("fetch", *FETCH_OPTIONS, REMOTE, "--", *specs)

    def _fetch_remote(self) -> dict[str, str]:
        """Fetch the sync and upstream branches; ``{branch: sha}`` for those the remote has.

        When both were seen before, one ``git fetch`` does it; otherwise (or if one vanished)
        ``ls-remote`` finds out which exist first.
        """
        wanted = [b for b in (self.branch, self.settings.upstream) if b]
        known = self._refs()
        if all(self._tracking(b) in known for b in wanted):
            specs = [f"+refs/heads/{b}:{self._tracking(b)}" for b in wanted]
            fetched = self.git("fetch", *FETCH_OPTIONS, REMOTE, "--", *specs, check=False)
            if fetched.status == 0:
                refs = self._refs()
                return {b: refs[self._tracking(b)] for b in wanted}
        heads = self._remote_heads()
        self._fetch(heads)
        return heads

    def _merge(self, their: str, label: str, report: CycleReport) -> bool:
        """Merge commit ``their``; True if conflicts or held files left work to commit.

        Uncommitted local files (untracked, ignored, oversized) where ``their`` adds files are
        held aside first: git's ort merge overwrites ignored files even with
        ``--no-overwrite-ignore`` (git 2.39), so that option is only a second line of defence.
        """
        head = self._head
        if their == head or (head and self.git.ok("merge-base", "--is-ancestor", their, head)):
            return False
        holder = Holder(self.git, self.git_dir)
        holder.hold(holder.clashes(self._incoming(head, their)))
        conflicts: list[Conflict] = []
        try:
            merged = self._run_merge(their, label)
            if merged.status != 0:
                if not (self.git_dir / "MERGE_HEAD").exists():
                    raise GitSyncError(f"git merge failed: {GitRunner.summarize(merged.stderr)}")
                conflicts += resolve_unmerged(self.git, label, their)
                self.git("commit", "-q", "--no-verify", "--no-edit")
        finally:
            conflicts += holder.restore(label, their)
            self._add_conflicts(report, conflicts)
            self._head = self._head_sha()
        return bool(conflicts)

    def _run_merge(self, their: str, label: str):
        return self.git(
            "merge", "-q", "--no-edit", "--no-verify", "--no-overwrite-ignore",
            "--allow-unrelated-histories", "-m", f"remote-dev: merge {label} {their[:8]}",
            their, check=False,
        )  # fmt: skip

    def _incoming(self, head: str | None, their: str) -> list[str]:
        """Paths that commit ``their`` adds relative to ``head`` (all of them if unborn)."""
        if head:
            diff = ("diff", "--name-only", "-z", "--no-renames", "--diff-filter=A", head, their)
        else:
            diff = ("ls-tree", "-r", "--name-only", "-z", their)
        return list(filter(None, self.git(*diff).text.split("\0")))

    def _checkout_start(self, start: str, report: CycleReport) -> None:
        """First checkout into a folder that may hold files: they stay, incoming ones go beside."""
        holder = Holder(self.git, self.git_dir)
        holder.hold(holder.clashes(self._incoming(None, start)))
        try:
            self.git("checkout", "-q", "-B", self.branch, start, "--")
        finally:
            self._add_conflicts(report, holder.restore("remote", start))

    def _push(self, remote_sha: str | None) -> bool:
        """Push the sync branch if it moved; False if the remote moved first (retry)."""
        head = self._head
        if head is None or head == remote_sha:
            return True
        ref = f"refs/heads/{self.branch}"
        pushed = self.git("push", "--porcelain", "--no-verify", REMOTE, "--", f"{ref}:{ref}",
                          check=False)  # fmt: skip
        if pushed.status == 0:
            return True
        if "[rejected]" in pushed.text or "fetch first" in pushed.stderr:
            self.log.info("sync branch moved on the remote while pushing; merging again")
            return False
        raise GitSyncError(f"git push failed: {GitRunner.summarize(pushed.stderr)}")

    # ----- small queries -----
    def _rev(self, ref: str) -> str | None:
        result = self.git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False)
        return result.text.strip() if result.status == 0 else None

    def _refs(self) -> dict[str, str]:
        """``{refname: sha}`` of the local sync branch and the remote-tracking branches we use."""
        names = [f"refs/heads/{self.branch}"] + [
            self._tracking(b) for b in (self.branch, self.settings.upstream) if b
        ]
        listing = self.git("for-each-ref", "--format=%(objectname) %(refname)", *names).text
        pairs = (line.split(" ", 1) for line in listing.splitlines() if line)
        return {ref: sha for sha, ref in pairs if ref in names}

    @staticmethod
    def _tracking(branch: str) -> str:
        return f"refs/remotes/{REMOTE}/{branch}"

    def _head_sha(self) -> str | None:
        return self._rev("HEAD")

    def _current_branch(self) -> str | None:
        result = self.git("symbolic-ref", "-q", "--short", "HEAD", check=False)
        return result.text.strip() if result.status == 0 else None

    def _start_point(self, heads: dict[str, str]) -> str | None:
        for name in (self.branch, self.settings.upstream):
            if name and name in heads:
                return heads[name]
        return None

    def _ahead_behind(self) -> tuple[int, int]:
        """Commits on the local sync branch not yet pushed, and pushed ones not yet merged."""
        local = f"refs/heads/{self.branch}"
        remote = f"refs/remotes/{REMOTE}/{self.branch}"
        try:
            refs = self._refs() if self.git_dir.is_dir() else {}
            if local not in refs:
                return 0, 0
            with gitpython.Repo(self.workspace) as repo:
                if remote not in refs:
                    return int(repo.git.rev_list("--count", local)), 0
                counts = repo.git.rev_list("--left-right", "--count", f"{local}...{remote}")
        except (GitSyncError, gitpython.GitError) as error:
            self.log.warning("git sync status: cannot count commits: %s", error)
            return 0, 0
        ahead, behind = (int(n) for n in counts.split())
        return ahead, behind
