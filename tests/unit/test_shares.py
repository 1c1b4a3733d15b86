"""Share links: made by the owner, opened by anyone holding the token, revoked at once; a
revoked, unknown or dead link answers exactly like one that never existed."""

from __future__ import annotations

import base64

import pytest

from services.images.base import GeneratedImage, ImageRequest, ImageResult
from services.shares import (
    SharedComparison,
    SharedConversation,
    SharedStudioRun,
    ShareKind,
    ShareService,
    token_hash,
)
from services.storage import ConversationStore
from services.storage.chains import ChainStore
from services.storage.images import ImageStore
from services.storage.shares import ShareLinkRow
from services.studio import ChainEngine, builtin_chains
from tests.fakes.karlo_server import render_image

OWNER, OTHER = "owner-a", "owner-b"


@pytest.fixture
def conversation_id(db) -> str:
    store = ConversationStore(db, OWNER)
    conversation = store.create(system_prompt="secret system prompt")
    store.update(conversation.id, title="Foxes")
    store.add_message(conversation.id, "user", "Tell me about foxes")
    store.add_message(conversation.id, "assistant", "Foxes are small canids.")
    return conversation.id


def comparison_id(db) -> tuple[str, str]:
    images = ImageStore(db, OWNER)
    png = render_image(64, 64)
    result = ImageResult("karlo", "karlo-v2.1", (GeneratedImage(png, "image/png"),), {}, (1,))
    run = images.save_run("a red fox", [(ImageRequest("a red fox", "karlo-v2.1"), result)])
    images.record_vote(run.id, "lane:0")
    return run.id, images.get_run(run.id).lanes[0].image_ids[0]


def test_a_link_opens_the_conversation_read_only_for_anyone(db, conversation_id):
    token = ShareService(db, OWNER).create(ShareKind.CONVERSATION, conversation_id)
    shared = ShareService(db, OTHER).open(token)  # the viewer's own service, owner unchanged
    assert isinstance(shared, SharedConversation)
    assert shared.title == "Foxes"
    assert [(m.role, m.content) for m in shared.messages] == [
        ("user", "Tell me about foxes"),
        ("assistant", "Foxes are small canids."),
    ]
    assert "secret system prompt" not in repr(shared)  # settings are not shared


def test_tokens_are_long_random_and_stored_only_as_hashes(db, conversation_id):
    service = ShareService(db, OWNER)
    tokens = {service.create(ShareKind.CONVERSATION, conversation_id) for _ in range(20)}
    assert len(tokens) == 20
    for token in tokens:
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
    with db.session() as s:
        stored = {row.token_hash for row in s.query(ShareLinkRow).all()}
    assert stored == {token_hash(t) for t in tokens}
    assert not stored & tokens


def test_revoking_stops_the_link_at_once_and_looks_like_an_unknown_one(db, conversation_id):
    owner = ShareService(db, OWNER)
    token = owner.create(ShareKind.CONVERSATION, conversation_id)
    [link] = owner.links(ShareKind.CONVERSATION)
    assert (link.title, link.target_id) == ("Foxes", conversation_id)
    assert owner.revoke(link.id)
    assert owner.open(token) is None
    assert (
        owner.open(token) == owner.open("not-a-token") == owner.open("") == owner.open("x" * 5000)
    )
    assert owner.links() == []
    assert not owner.revoke(link.id)  # already revoked


def test_another_owner_cannot_revoke_or_share_what_is_not_theirs(db, conversation_id):
    token = ShareService(db, OWNER).create(ShareKind.CONVERSATION, conversation_id)
    other = ShareService(db, OTHER)
    assert other.links() == []
    assert not other.revoke(token_hash(token))
    assert other.open(token) is not None  # still live
    with pytest.raises(LookupError):
        other.create(ShareKind.CONVERSATION, conversation_id)


def test_a_deleted_item_answers_like_a_revoked_link(db, conversation_id):
    token = ShareService(db, OWNER).create(ShareKind.CONVERSATION, conversation_id)
    ConversationStore(db, OWNER).delete(conversation_id)
    assert ShareService(db, OTHER).open(token) is None
    assert ShareService(db, OWNER).links() == []


def test_a_studio_run_and_a_comparison_can_be_shared(db, chat):
    engine = ChainEngine(chat)
    run = engine.new_run("a fox", builtin_chains()[0], model="gpt-5.4-mini")
    ChainStore(db, OWNER).save_run(run)
    owner = ShareService(db, OWNER)
    studio = owner.open(owner.create(ShareKind.STUDIO_RUN, run.id))
    assert isinstance(studio, SharedStudioRun) and studio.run.idea == "a fox"

    run_id, image_id = comparison_id(db)
    shared = ShareService(db, OTHER).open(owner.create(ShareKind.COMPARISON, run_id))
    assert isinstance(shared, SharedComparison)
    assert str(shared.run.outcome) == "lane:0"
    assert shared.get_image(image_id).data.startswith(b"\x89PNG")
    # only this comparison's images are readable through it
    _, unrelated = comparison_id(db)
    assert shared.get_image(unrelated) is None
