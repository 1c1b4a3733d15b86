"""Images attached to a chat message: files from the chat input (or a gallery image, "Ask
about this image") are checked and downscaled (services/chat_images.py) and wait above the
input until the message is sent; a message refused before sending (the model does not read
images) keeps its text and images here, to send again with another model. The transcript
shows a sent message's images as thumbnails."""

from __future__ import annotations

import streamlit as st

from components import state as K
from components.context import AppContext
from components.errors import show_error
from services.chat_images import MAX_IMAGES, ChatImage, prepare_image, refused
from services.errors import ChatCanvasError, ErrorKind
from services.markdown_safety import escape_markdown
from services.storage.message_images import MessageThumbnail

THUMB_WIDTH = 96
HELD_FOR = frozenset({ErrorKind.NO_VISION, ErrorKind.ATTACHMENT_REFUSED})


def attached() -> list[ChatImage]:
    """The images that go with the next message."""
    return st.session_state.setdefault(K.CHAT_ATTACHED, [])


def _attach(image: ChatImage, name: str) -> None:
    images = attached()
    if len(images) >= MAX_IMAGES:
        st.session_state.setdefault(K.CHAT_ATTACH_ERRORS, []).append(refused(name, "too_many"))
        return
    images.append(image)


def attach_files(ctx: AppContext, submitted: object) -> bool:
    """Check and attach the files of a chat input submission; refused ones are said once.
    False when one was refused (the text is then held, not sent without it)."""
    ok = True
    for file in getattr(submitted, "files", None) or []:
        try:
            _attach(prepare_image(file.getvalue(), file.name), file.name)
        except ChatCanvasError as err:
            st.session_state.setdefault(K.CHAT_ATTACH_ERRORS, []).append(err)
            ok = False
    image_id = st.session_state.pop(K.CHAT_ASK_IMAGE, None)
    if image_id is not None:  # "Ask about this image" in the gallery
        image = ctx.images.get_image(image_id)
        name = ctx.t("chat.images.gallery_image")
        if image is not None:
            try:
                _attach(prepare_image(image.data, name), name)
            except ChatCanvasError as err:
                st.session_state.setdefault(K.CHAT_ATTACH_ERRORS, []).append(err)
    return ok and len(attached()) <= MAX_IMAGES


def hold(text: str, err: ChatCanvasError | None = None) -> None:
    """Keep a message that was not sent because of its images (the images stay attached):
    ``err`` says why when it was refused as a whole."""
    if text.strip() and (err is None or err.kind in HELD_FOR):
        st.session_state[K.CHAT_HELD] = text


def sent() -> None:
    """The message went out with its images: nothing waits any more."""
    for key in (K.CHAT_ATTACHED, K.CHAT_HELD):
        st.session_state.pop(key, None)


def _remove(index: int) -> None:
    images = attached()
    if 0 <= index < len(images):
        images.pop(index)


def _send_held() -> None:
    st.session_state[K.CHAT_ACTION] = ("send", st.session_state.pop(K.CHAT_HELD, ""))


def attachments_panel(ctx: AppContext) -> None:
    """Refused files, the images waiting for the next message (each with Remove) and a
    message held back, with Send."""
    t = ctx.t
    for err in st.session_state.pop(K.CHAT_ATTACH_ERRORS, []):
        show_error(err, t)
    images, held = attached(), st.session_state.get(K.CHAT_HELD)
    if not images and not held:
        return
    with st.container(border=True, key="chat_attachments"):
        if held:
            st.caption(t("chat.images.held", text=escape_markdown(held)))
        if images:
            st.caption(t("chat.images.attached", count=len(images), limit=MAX_IMAGES))
        with st.container(horizontal=True):
            for i, image in enumerate(images):
                with st.container(width="content"):
                    st.image(
                        image.data,
                        width=THUMB_WIDTH,
                        alt=t("chat.images.alt", n=i + 1, width=image.width, height=image.height),
                    )
                    st.button(
                        t("chat.images.remove"),
                        key=f"chat_attached_remove_{i}",
                        icon=":material/close:",
                        on_click=_remove,
                        args=(i,),
                    )
        if held:
            st.button(
                t("chat.images.send_held"),
                key="chat_send_held",
                icon=":material/send:",
                type="primary",
                on_click=_send_held,
            )


def sending_images(ctx: AppContext, images: tuple[ChatImage, ...]) -> None:
    """The images of the message being answered, under its text."""
    if images:
        with st.container(horizontal=True):
            for i, image in enumerate(images):
                alt = ctx.t("chat.images.alt", n=i + 1, width=image.width, height=image.height)
                st.image(image.data, width=THUMB_WIDTH * 2, alt=alt)


def message_thumbnails(ctx: AppContext, thumbnails: list[MessageThumbnail]) -> None:
    """A sent message's images, small."""
    with st.container(horizontal=True, key=f"chat_images_{thumbnails[0].message_id}"):
        for thumb in thumbnails:
            caption = ctx.t("chat.images.size", width=thumb.width, height=thumb.height)
            alt = ctx.t(
                "chat.images.alt", n=thumb.position + 1, width=thumb.width, height=thumb.height
            )
            if thumb.thumbnail is not None:
                st.image(thumb.thumbnail, width=THUMB_WIDTH * 2, caption=caption, alt=alt)
            else:
                st.caption(caption)
