"""Handing local data to a signed-in user, on SQLite and PostgreSQL, by function and command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from services.identity import owner_id_for
from services.images.base import GeneratedImage, ImageRequest, ImageResult
from services.storage.chains import ChainStore
from services.storage.conversations import ConversationStore
from services.storage.handover import TargetHasData, hand_over, owned_tables
from services.storage.images import ImageStore
from services.studio import ChainStep
from tests.fakes.karlo_server import render_image

ROOT = Path(__file__).resolve().parents[2]
USER = owner_id_for("https://accounts.example.com", "user-123")
STEPS = (ChainStep("Describe", "Describe {idea}."),)


@pytest.fixture
def db(database):
    return database


def make_things(db, owner: str, engine) -> None:
    """One conversation with two messages, a template, a studio run, a run of two images."""
    chats = ConversationStore(db, owner)
    conv = chats.create(title=f"{owner}'s trip")
    chats.add_message(conv.id, "user", "hi")
    chats.add_message(conv.id, "assistant", "hello", cost_usd=0.01, completion_tokens=1)
    chains = ChainStore(db, owner)
    template = chains.create_template("Mine", STEPS)
    chains.save_run(engine.new_run("a fox", template))
    images = tuple(
        GeneratedImage(render_image(32, 32, "png", seed=i), "image/png", seed=i) for i in range(2)
    )
    result = ImageResult("openai", "gpt-image-2", images, {}, latency_ms=5, cost_usd=0.08)
    ImageStore(db, owner).save_run("a fox", [(ImageRequest("a fox", "gpt-image-2"), result)])


EXPECTED = {
    "chain_templates": 1,
    "compare_runs": 1,
    "conversations": 1,
    "studio_runs": 1,
    "compare_lanes": 1,
    "images": 2,
    "messages": 2,
}


def seen_by(db, owner: str) -> tuple[int, int, int, int]:
    """(conversations, messages, templates + runs, images) as ``owner`` sees them."""
    chats, chains = ConversationStore(db, owner), ChainStore(db, owner)
    conversations = chats.list()
    messages = sum(len(chats.messages(c.id)) for c in conversations)
    chain_rows = len(chains.list_templates(include_builtin=False)) + len(chains.list_runs())
    return len(conversations), messages, chain_rows, ImageStore(db, owner).count()


def test_every_owned_table_is_handed_over(db, engine):
    make_things(db, "local", engine)
    make_things(db, "someone-else", engine)
    assert {t.name for t in owned_tables()} >= set(EXPECTED)
    moved = hand_over(db, USER)
    assert {name: moved[name] for name in EXPECTED} == EXPECTED
    assert seen_by(db, "local") == (0, 0, 0, 0)
    assert seen_by(db, USER) == (1, 2, 2, 2)
    assert seen_by(db, "someone-else") == (1, 2, 2, 2)  # untouched


def test_a_user_with_data_is_refused_unless_merging(db, engine):
    make_things(db, "local", engine)
    make_things(db, USER, engine)
    with pytest.raises(TargetHasData) as refused:
        hand_over(db, USER)
    assert refused.value.owned["conversations"] == 1
    assert seen_by(db, "local") == (1, 2, 2, 2)  # nothing moved
    hand_over(db, USER, merge=True)
    assert seen_by(db, USER) == (2, 4, 4, 4)
    assert seen_by(db, "local") == (0, 0, 0, 0)


@pytest.mark.parametrize("target", ["", "local", "x" * 65])
def test_a_target_that_is_no_owner_id_is_refused(db, target):
    with pytest.raises(ValueError):
        hand_over(db, target)


def run_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.storage.handover", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_hands_over_by_issuer_and_subject(db, engine):
    make_things(db, "local", engine)
    url = db.engine.url.render_as_string(hide_password=False)
    done = run_command(
        "--issuer", "https://accounts.example.com", "--subject", "user-123", "--database-url", url
    )
    assert done.returncode == 0, done.stderr
    assert "conversations: 1" in done.stdout and "images: 2" in done.stdout
    assert f"Moved 9 rows from local to {USER}." in done.stdout
    assert seen_by(db, USER) == (1, 2, 2, 2)

    make_things(db, "local", engine)
    refused = run_command("--to", USER, "--database-url", url)
    assert refused.returncode == 1 and "--merge" in refused.stderr
    assert seen_by(db, "local") == (1, 2, 2, 2)
    assert run_command("--to", USER, "--merge", "--database-url", url).returncode == 0
    assert seen_by(db, USER) == (2, 4, 4, 4)


def test_the_command_finds_a_signed_in_user_by_email(db, engine):
    from services.identity import SignedInUser
    from services.storage.users import UserStore

    make_things(db, "local", engine)
    url = db.engine.url.render_as_string(hide_password=False)
    unknown = run_command("--email", "ada@example.org", "--database-url", url)
    assert unknown.returncode == 2 and "no single signed-in user" in unknown.stderr
    UserStore(db).record_visit(
        SignedInUser("https://accounts.example.com", "user-123", email="Ada@Example.org")
    )
    done = run_command("--email", "ada@example.org", "--database-url", url)
    assert done.returncode == 0, done.stderr
    assert seen_by(db, USER) == (1, 2, 2, 2)
    both = run_command("--email", "ada@example.org", "--to", USER, "--database-url", url)
    assert both.returncode == 2
