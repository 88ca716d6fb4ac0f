"""The errors an adapter raises, grouped by what the caller does (singer-sdk's fatal,
retriable and skippable), and what the command line makes of them."""

from __future__ import annotations

import math

import pytest

import syncbridge.cli.sync_cmds as sync_cmds
from syncbridge.cli import main
from syncbridge.errors import (
    AuthError,
    FatalError,
    RemoteUnavailable,
    RetryableError,
    SkipError,
    StaleVersion,
)


def test_auth_error_is_fatal_and_says_what_to_do() -> None:
    error = AuthError(
        "Notion rejected the token (401 unauthorized)",
        todo="create a new internal integration token and set it as the target's token",
    )
    assert isinstance(error, FatalError) and not isinstance(error, RetryableError)
    assert str(error) == (
        "Notion rejected the token (401 unauthorized): create a new internal integration "
        "token and set it as the target's token"
    )
    assert error.problem.startswith("Notion rejected") and error.todo.startswith("create")


@pytest.mark.parametrize("todo", ["", "   "])
def test_an_auth_error_without_a_remedy_is_refused(todo: str) -> None:
    with pytest.raises(ValueError, match="must say what to do"):
        AuthError("401", todo=todo)


def test_remote_unavailable_carries_how_long_to_wait() -> None:
    error = RemoteUnavailable("Notion is rate limiting us (429)", retry_after_s=12.5)
    assert isinstance(error, RetryableError) and error.retry_after_s == 12.5
    assert str(error) == "Notion is rate limiting us (429)"
    assert RemoteUnavailable("connection reset").retry_after_s is None
    assert RemoteUnavailable("now", retry_after_s=0).retry_after_s == 0


@pytest.mark.parametrize("bad", [-1.0, math.nan])
def test_remote_unavailable_refuses_a_wait_that_is_no_wait(bad: float) -> None:
    with pytest.raises(ValueError, match="retry_after_s"):
        RemoteUnavailable("x", retry_after_s=bad)


def test_the_three_groups_do_not_overlap() -> None:
    for error in (AuthError("a", todo="b"), RemoteUnavailable("c"), StaleVersion("d")):
        groups = [isinstance(error, g) for g in (FatalError, RetryableError, SkipError)]
        assert groups.count(True) == 1


def _status_raising(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def raise_it(args: object) -> int:
        raise error

    monkeypatch.setattr(sync_cmds, "_cmd_status", raise_it)


def test_cli_exits_2_on_an_auth_error_with_its_remedy(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _status_raising(monkeypatch, AuthError("token refused", todo="set a valid token"))
    assert main(["status"]) == 2
    assert capsys.readouterr().err == "syncbridge: error: token refused: set a valid token\n"


def test_cli_exits_4_on_a_remote_unavailable_and_says_when_to_retry(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _status_raising(monkeypatch, RemoteUnavailable("rate limited", retry_after_s=30))
    assert main(["status"]) == 4
    assert capsys.readouterr().err == (
        "syncbridge: temporary failure, try again in 30 s or later: rate limited\n"
    )
    _status_raising(monkeypatch, RemoteUnavailable("connection reset"))
    assert main(["status"]) == 4
    assert capsys.readouterr().err == (
        "syncbridge: temporary failure, try again: connection reset\n"
    )
