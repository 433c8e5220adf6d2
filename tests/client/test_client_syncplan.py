"""The three-way sync plan (pure): each case of the table, and convergence as a property."""

from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_remote_dev.client.sync import plan as syncplan
from jupyter_remote_dev.client.sync.plan import (
    CONFLICT,
    DELETE_LOCAL,
    DELETE_REMOTE,
    PULL,
    PUSH,
    Entry,
    conflict_copy_name,
    plan,
    plan_path,
)

A, B, C = Entry("a" * 64, 1), Entry("b" * 64, 2), Entry("c" * 64, 3)


def kind(local, remote, base, conflict=None):
    action = plan_path("f.py", local, remote, base, conflict)
    return action.kind if action else None


def test_plan_path_unchanged_is_nothing():
    """Equal content on both sides needs no action, whatever the base."""
    assert kind(A, A, A) is None
    assert kind(A, A, None) is None
    assert kind(A, A, B) is None


def test_plan_path_one_sided_changes_propagate():
    """A change, creation or deletion on one side is copied to the other."""
    assert kind(B, A, A) == PUSH
    assert kind(A, B, A) == PULL
    assert kind(A, None, None) == PUSH
    assert kind(None, A, None) == PULL
    assert kind(None, A, A) == DELETE_REMOTE
    assert kind(A, None, A) == DELETE_LOCAL


def test_plan_path_both_changed_is_conflict():
    """Different changes on both sides, or two different new files, conflict."""
    assert kind(B, C, A) == CONFLICT
    assert kind(B, C, None) == CONFLICT


def test_plan_path_delete_versus_change_restores():
    """A file deleted on one side and changed on the other is restored, never deleted."""
    action = plan_path("f.py", None, B, A)
    assert (action.kind, action.reason.endswith("restored")) == (PULL, True)
    assert kind(B, None, A) == PUSH


def test_plan_path_recorded_conflict_sticks_until_resolved():
    """A reported conflict stays whatever either side does next, until both sides agree."""
    assert kind(B, C, A, True) == CONFLICT
    assert kind(A, C, A, True) == CONFLICT  # local edited after the report: still held
    assert kind(B, A, A, True) == CONFLICT  # remote edited after the report: still held
    assert kind(None, C, A, True) == CONFLICT
    assert kind(C, C, A, True) is None  # both sides hold the same file: nothing to settle


def test_plan_path_executable_bit_counts_as_a_change():
    """A chmod +x on one side propagates; the same content with another mode is not in sync."""
    plain, executable = Entry("a" * 64, 1, 0o644), Entry("a" * 64, 1, 0o755)
    assert kind(executable, plain, plain) == PUSH
    assert kind(plain, executable, plain) == PULL
    assert kind(Entry("a" * 64, 1, 0o600), plain, plain) is None  # only the x bit matters


def test_plan_lists_in_sync_paths_and_summary():
    """plan() covers every path and reports identical files as in sync."""
    result = plan({"same": A, "new": B}, {"same": A, "gone": C}, {"gone": C})
    assert result.in_sync == {"same": A}
    assert [(a.kind, a.path) for a in result.actions] == [(DELETE_REMOTE, "gone"), (PUSH, "new")]
    assert result.summary()[PUSH] == 1 and result.summary()[DELETE_REMOTE] == 1


def test_conflict_copy_name_keeps_folder_and_extension():
    """The conflict copy sits beside the file with the remote hash before the extension."""
    assert conflict_copy_name("src/train.py", "abcdef0123") == "src/train.remote-abcdef01.py"
    assert conflict_copy_name(".env", "abcdef0123") == ".env.remote-abcdef01"
    assert conflict_copy_name("Makefile", "abcdef0123") == "Makefile.remote-abcdef01"


shas = st.sampled_from([None, "1", "2", "3"])
trees = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.tuples(shas, shas, shas))


def apply(actions, local, remote):
    for action in actions:
        if action.kind == PUSH:
            remote[action.path] = local[action.path]
        elif action.kind == PULL:
            local[action.path] = remote[action.path]
        elif action.kind == DELETE_REMOTE:
            del remote[action.path]
        elif action.kind == DELETE_LOCAL:
            del local[action.path]
        elif action.kind == CONFLICT:
            local[conflict_copy_name(action.path, remote[action.path])] = remote[action.path]


@settings(max_examples=300, deadline=None)
@given(trees)
def test_plan_converges_and_keeps_every_new_version(cases):
    """After one plan, both sides agree except on conflicts, and no changed version is lost."""
    local = {p: Entry(x) for p, (x, _, _) in cases.items() if x}
    remote = {p: Entry(r) for p, (_, r, _) in cases.items() if r}
    base = {p: Entry(b) for p, (_, _, b) in cases.items() if b}
    new_versions = {(p, e.sha256) for p, e in [*local.items(), *remote.items()]}
    new_versions -= {(p, e.sha256) for p, e in base.items()}
    result = syncplan.plan(local, remote, base)
    after_local = {p: e.sha256 for p, e in local.items()}
    after_remote = {p: e.sha256 for p, e in remote.items()}
    apply(result.actions, after_local, after_remote)
    conflicted = {a.path for a in result.conflicts}
    for path in set(cases) - conflicted:
        assert after_local.get(path) == after_remote.get(path)
    surviving = set(after_local.items()) | set(after_remote.items())
    copies = {(a.path, a.remote.sha256) for a in result.conflicts}
    assert new_versions <= surviving | copies
