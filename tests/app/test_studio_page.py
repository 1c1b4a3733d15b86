"""The Prompt Studio page driven through AppTest against the fake OpenAI API."""

from __future__ import annotations

import json

import pytest

from services.storage import open_database
from services.storage.chains import ChainStore
from tests.app.conftest import new_app
from tests.fakes.tutorial_model import (
    CONCRETE,
    DESCRIPTION,
    IDEA,
    KARLO_PROMPT,
    PROMPT,
    STEP_MARKERS,
    TRANSLATION,
    scripted,
    step_of,
)


def texts(at) -> str:
    parts = []
    for kind in ("markdown", "caption", "error", "warning", "info", "subheader", "code", "toast"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def open_studio(**query: str):
    """A new session on /studio (with ``query`` in the URL, as a reload or bookmark has it)."""
    at = new_app().run()
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page("app_pages/studio.py").run()
    assert not at.exception, at.exception
    return at


def run_idea(at, idea: str = IDEA):
    at.text_area(key="studio_idea").set_value(idea).run()
    at.button(key="studio_run").click().run()
    assert not at.exception, at.exception
    return at


def output_box(at, index: int):
    return at.text_area(key=f"studio_out_{at.query_params['run']}_{index}")


def chains(app_env) -> ChainStore:
    return ChainStore(open_database(f"sqlite:///{app_env}/chatcanvas.db"), "local")


@pytest.fixture
def studio(app_env, fake_openai):
    fake_openai.reply = scripted
    return open_studio()


def test_korean_idea_runs_the_tutorial_chain(studio, fake_openai):
    assert studio.selectbox(key="studio_chain").value == "tutorial"
    run_idea(studio)
    requests = fake_openai.chat_requests()
    assert [step_of(r) for r in requests] == list(STEP_MARKERS)[:4]
    first, second, third, fourth = (r.body["messages"] for r in requests)
    assert IDEA in first[-1]["content"] and "Korean" in first[-1]["content"]
    # steps 2 and 3 continue the conversation: the earlier answers travel with them
    assert [m["content"] for m in second if m["role"] == "assistant"] == [DESCRIPTION]
    assert [m["content"] for m in third if m["role"] == "assistant"] == [DESCRIPTION, CONCRETE]
    # step 4 starts fresh with the prompt writer and gets step 3's answer in its message
    assert [m["role"] for m in fourth] == ["system", "user"]
    assert TRANSLATION in fourth[-1]["content"]
    assert studio.text_area(key="studio_final_prompt").value == PROMPT
    assert output_box(studio, 1).value == CONCRETE
    shown = texts(studio)
    assert "Idea language: Korean" in shown
    assert f"{len(PROMPT)} characters" in shown
    assert "Run total:" in shown and "$" in shown
    assert "English" in shown and "Within Karlo's 256 characters" in shown


def test_a_reload_reopens_the_stored_run(studio, fake_openai):
    run_idea(studio)
    run_id = studio.query_params["run"]
    reloaded = open_studio(run=run_id)
    assert reloaded.text_area(key="studio_final_prompt").value == PROMPT
    assert reloaded.text_area(key="studio_idea").value == IDEA
    assert len(fake_openai.chat_requests()) == 4  # nothing is called again
    # the sidebar lists it; a new idea clears the page, the list reopens the run
    reloaded.sidebar.button(key="studio_new").click().run()
    assert "run" not in reloaded.query_params
    assert not [a for a in reloaded.text_area if a.key == "studio_final_prompt"]
    reloaded.sidebar.button(key=f"studio_open_{run_id}").click().run()
    assert reloaded.query_params["run"] == run_id
    assert reloaded.text_area(key="studio_final_prompt").value == PROMPT


def test_missing_run_in_url(app_env):
    at = open_studio(run="doesnotexist")
    assert "run" not in at.query_params
    assert "does not exist" in texts(at)


def test_edit_a_step_then_rerun(studio, fake_openai):
    run_idea(studio)
    output_box(studio, 1).set_value("EDITED: a blue animal").run()
    assert "Re-run from here to use it" in texts(studio)  # steps 3 and 4 are stale
    # re-running the step after the edit sends the edit instead of calling step 2 again
    before = len(fake_openai.chat_requests())
    studio.button(key="studio_rerun_2").click().run()
    requests = fake_openai.chat_requests()[before:]
    assert [step_of(r) for r in requests] == list(STEP_MARKERS)[2:4]
    assistant = [m["content"] for m in requests[0].body["messages"] if m["role"] == "assistant"]
    assert assistant == [DESCRIPTION, "EDITED: a blue animal"]
    assert "Re-run from here to use it" not in texts(studio)
    # the edit is stored: a reload shows it
    assert output_box(open_studio(run=studio.query_params["run"]), 1).value.startswith("EDITED")

    # re-running from step 2 calls steps 2-4 and nothing before
    output_box(studio, 1).set_value("EDITED again").run()
    before = len(fake_openai.chat_requests())
    studio.button(key="studio_rerun_1").click().run()
    requests = fake_openai.chat_requests()[before:]
    assert [step_of(r) for r in requests] == list(STEP_MARKERS)[1:4]
    assert [m["content"] for m in requests[0].body["messages"] if m["role"] == "assistant"] == [
        DESCRIPTION
    ]
    assert output_box(studio, 1).value == CONCRETE
    assert studio.text_area(key="studio_final_prompt").value == PROMPT


def test_editing_the_final_prompt_is_stored(studio):
    run_idea(studio)
    studio.text_area(key="studio_final_prompt").set_value("A red fox, watercolour").run()
    assert output_box(studio, 3).value == "A red fox, watercolour"
    reloaded = open_studio(run=studio.query_params["run"])
    assert reloaded.text_area(key="studio_final_prompt").value == "A red fox, watercolour"
    # an empty prompt is not kept
    studio.text_area(key="studio_final_prompt").set_value("  ").run()
    assert studio.text_area(key="studio_final_prompt").value == "A red fox, watercolour"


def test_error_mid_chain_keeps_done_steps_and_retry_resumes(studio, fake_openai):
    def failing_after_step_two(messages, model):
        answer = scripted(messages, model)
        if answer == CONCRETE:  # every request from now on fails (retries included)
            fake_openai.set_fault("server_error")
        return answer

    fake_openai.reply = failing_after_step_two
    run_idea(studio)
    assert "internal error" in texts(studio)
    assert output_box(studio, 0).value == DESCRIPTION
    assert output_box(studio, 1).value == CONCRETE
    assert not [a for a in studio.text_area if a.key == "studio_final_prompt"]
    assert not [b for b in studio.button if b.key == "studio_retry_3"]  # step 4 never ran

    fake_openai.clear_faults()
    before = len(fake_openai.chat_requests())
    studio.button(key="studio_retry_2").click().run()
    requests = fake_openai.chat_requests()[before:]
    assert [step_of(r) for r in requests] == list(STEP_MARKERS)[2:4]
    assert "internal error" not in texts(studio)
    assert studio.text_area(key="studio_final_prompt").value == PROMPT


def test_empty_idea_is_not_sent(studio, fake_openai):
    run_idea(studio, "   ")
    assert "nothing was sent" in texts(studio)
    assert not fake_openai.chat_requests()
    assert "run" not in studio.query_params


def test_a_long_idea_is_warned(studio):
    studio.selectbox(key="studio_model").set_value("gpt-3.5-turbo").run()
    studio.text_area(key="studio_idea").set_value("a red fox " * 2000).run()
    assert "This idea is long" in texts(studio)


def test_send_to_compare(studio, fake_openai):
    run_idea(studio)
    run_id = studio.query_params["run"]
    studio.button(key="studio_send_to_compare").click().run()
    assert studio.session_state["compare_prompt"] == PROMPT
    assert studio.session_state["compare_negative_prompt"] == ""
    assert studio.session_state["compare_studio_run_id"] == run_id


def test_karlo_chain_gives_a_negative_prompt(studio, fake_openai):
    studio.selectbox(key="studio_chain").set_value("karlo").run()
    run_idea(studio)
    assert len(fake_openai.chat_requests()) == 2
    assert studio.text_area(key="studio_final_prompt").value == KARLO_PROMPT
    assert studio.text_area(key="studio_negative_prompt").value == "blurry, text, watermark"
    assert f"{len(KARLO_PROMPT)} / 256 characters" in texts(studio)
    studio.button(key="studio_send_to_compare").click().run()
    assert studio.session_state["compare_prompt"] == KARLO_PROMPT
    assert studio.session_state["compare_negative_prompt"] == "blurry, text, watermark"


def test_back_translation(studio, fake_openai):
    studio.toggle(key="studio_back_translate").set_value(True).run()
    run_idea(studio)
    requests = fake_openai.chat_requests()
    assert len(requests) == 5
    assert requests[-1].body["messages"][-1]["content"].startswith("Translate this image prompt")
    assert "Back-translation" in texts(studio)


def test_template_with_unknown_placeholder_is_rejected(studio, app_env, fake_openai):
    studio.button(key="studio_tpl_new").click().run()
    uid = studio.session_state["studio_draft"]["steps"][0]
    studio.text_input(key="studio_tpl_name").set_value("Colours").run()
    studio.text_area(key=f"studio_tpl_{uid}_template").set_value("Paint {colour}").run()
    studio.button(key="studio_tpl_save").click().run()
    assert "Step 1: {colour} is not a placeholder" in "\n".join(e.value for e in studio.error)
    assert not chains(app_env).list_templates(include_builtin=False)

    studio.text_area(key=f"studio_tpl_{uid}_template").set_value("Paint {idea}").run()
    studio.button(key="studio_tpl_save").click().run()
    assert not studio.error
    (saved,) = chains(app_env).list_templates(include_builtin=False)
    assert saved.name == "Colours"
    # the new chain can run at once
    assert "Colours" in studio.selectbox(key="studio_chain").options
    studio.selectbox(key="studio_chain").set_value(saved.id).run()
    run_idea(studio, "a fox")
    assert fake_openai.chat_requests()[-1].body["messages"][-1]["content"] == "Paint a fox"


def test_copy_edit_rename_and_delete_a_template(studio, app_env):
    studio.selectbox(key="studio_tpl_copy_source").set_value("tutorial").run()
    studio.button(key="studio_tpl_copy").click().run()
    assert studio.text_input(key="studio_tpl_name").value.startswith("Copy of Describe")
    steps = list(studio.session_state["studio_draft"]["steps"])
    assert len(steps) == 4
    # without step 2, the prompt step's {step3} would point at itself
    studio.button(key=f"studio_tpl_{steps[1]}_remove").click().run()
    studio.button(key="studio_tpl_save").click().run()
    assert "{step3} refers to step 3" in "\n".join(e.value for e in studio.error)
    studio.button(key=f"studio_tpl_{steps[3]}_remove").click().run()
    studio.button(key="studio_tpl_save").click().run()
    (saved,) = chains(app_env).list_templates(include_builtin=False)
    assert [s.name for s in saved.steps] == ["Describe", "Translate into English"]
    assert saved.steps[0].system_prompt and saved.steps[0].temperature == 1.0  # kept as copied

    studio.text_input(key="studio_tpl_name").set_value("Mars chain").run()
    studio.button(key="studio_tpl_save").click().run()
    assert chains(app_env).get_template(saved.id).name == "Mars chain"
    assert "Mars chain" in studio.selectbox(key="studio_chain").options
    studio.button(key="studio_tpl_delete_confirm").click().run()
    assert not chains(app_env).list_templates(include_builtin=False)
    assert "Template deleted." in texts(studio)
    assert "Mars chain" not in studio.selectbox(key="studio_chain").options


def test_import_a_template(studio, app_env):
    good = {
        "format": "chatcanvas.chain.v1",
        "name": "Imported",
        "steps": [{"name": "Only", "template": "Draw {idea}"}],
    }
    uploader = studio.file_uploader(key="studio_tpl_import")
    uploader.set_value(("chain.json", json.dumps(good).encode(), "application/json")).run()
    assert [t.name for t in chains(app_env).list_templates(include_builtin=False)] == ["Imported"]
    assert studio.text_input(key="studio_tpl_name").value == "Imported"
    bad = {**good, "steps": [{"name": "Only", "template": "Draw {shape}"}]}
    uploader = studio.file_uploader(key="studio_tpl_import")
    uploader.set_value(("bad.json", json.dumps(bad).encode(), "application/json")).run()
    assert "{shape} is not a placeholder" in texts(studio)
    assert len(chains(app_env).list_templates(include_builtin=False)) == 1


def test_korean_ui(app_env, fake_openai):
    fake_openai.reply = scripted
    studio = new_app().run()
    studio.sidebar.radio(key="lang").set_value("ko").run()  # switched on the chat page
    studio.switch_page("app_pages/studio.py").run()
    assert studio.subheader[0].value == "프롬프트 스튜디오"
    assert studio.button(key="studio_run").label == "체인 실행"
    assert studio.selectbox(key="studio_chain").options[0] == "묘사 → 구체화 → 번역 → 프롬프트"
    run_idea(studio, "  ")
    assert "메시지가 비어 있어 보내지 않았습니다" in texts(studio)
    run_idea(studio)
    shown = texts(studio)
    assert "아이디어 언어: 한국어" in shown and "1단계 · 묘사하기" in shown
    assert studio.button(key="studio_send_to_compare").label == "비교로 보내기"


def test_generate_here_runs_the_default_lanes_linked_to_the_run(app_env, monkeypatch):
    """ "Generate here" sends the final prompt to GPT Image and Karlo and keeps the lineage."""
    from services.storage import open_database
    from services.storage.images import ImageStore
    from tests.fakes.karlo_server import FAKE_KAKAO_KEY, FakeKarlo
    from tests.fakes.openai_images import FakeOpenAIImages
    from tests.fakes.openai_server import FakeOpenAI

    images = FakeOpenAIImages()
    with FakeOpenAI(image_handler=images) as fake, FakeKarlo() as karlo:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("KAKAO_REST_API_KEY", FAKE_KAKAO_KEY)
        monkeypatch.setenv("KARLO_BASE_URL", karlo.base_url)
        fake.reply = lambda messages, model: "A fox on Mars, red dust, watercolour"
        at = new_app().run()
        at.switch_page("app_pages/studio.py").run()
        at.selectbox(key="studio_chain").set_value("quick").run()
        at.text_area(key="studio_idea").set_value("화성의 여우").run()
        at.button(key="studio_run").click().run()
        assert (
            at.text_area(key="studio_final_prompt").value == "A fox on Mars, red dust, watercolour"
        )
        at.button(key="studio_generate_here").click().run()
        assert not at.exception, at.exception
        assert len(at.get_by_key("compare_lane_0").image) == 1
        assert len(at.get_by_key("compare_lane_1").image) == 1
        assert karlo.t2i_calls()[-1].body["prompt"] == "A fox on Mars, red dust, watercolour"
        store = ImageStore(open_database(f"sqlite:///{app_env}/chatcanvas.db"), "local")
        (thumb, *_) = store.list_thumbnails(limit=10)
        assert store.get_image(thumb.id).studio_run_id == at.query_params["run"]


def test_an_edited_final_prompt_reaches_compare_as_typed(studio):
    """A final prompt that looks like a prompt writer's labelled answer is not taken apart."""
    typed = 'Poster:\nthe words "Negative: zero" in neon over a fox'
    run_idea(studio)
    studio.text_area(key="studio_final_prompt").set_value(typed).run()
    reloaded = open_studio(run=studio.query_params["run"])
    assert reloaded.text_area(key="studio_final_prompt").value == typed
    assert not [a for a in reloaded.text_area if a.key == "studio_negative_prompt"]
    reloaded.button(key="studio_send_to_compare").click().run()
    assert not reloaded.exception, reloaded.exception
    assert reloaded.text_area(key="compare_prompt").value == typed
    assert reloaded.text_input(key="compare_negative_prompt").value == ""
    assert reloaded.text_input(key="compare_karlo_prompt").value == ""


def test_an_edited_step_names_both_choices_and_the_final_prompt_says_it_is_out_of_date(
    studio, fake_openai
):
    run_idea(studio)
    output_box(studio, 1).set_value("EDITED: a blue animal").run()
    # the edited step offers the two choices by name, not a bare "Re-run from here"
    keep = studio.button(key="studio_keep_edit_1")
    regenerate = studio.button(key="studio_rerun_1")
    assert keep.label == "Keep my edit, re-run what follows"
    assert regenerate.label == "Regenerate this step"
    assert "your edit is replaced" in regenerate.help
    warning = " ".join(str(w.value) for w in studio.warning)
    assert "Steps 3, 4 ran before your edit" in warning
    assert studio.button(key="studio_send_to_compare").help  # sending now says what it sends

    # keeping the edit re-runs only what follows, with the edit; the warning goes
    before = len(fake_openai.chat_requests())
    keep.click().run()
    requests = fake_openai.chat_requests()[before:]
    assert [step_of(r) for r in requests] == list(STEP_MARKERS)[2:4]
    assert output_box(studio, 1).value == "EDITED: a blue animal"
    assert "ran before your edit" not in " ".join(str(w.value) for w in studio.warning)


def visit(at, page: str):
    """Open ``page`` from the menu: the browser's address has no query string then."""
    at.query_params.clear()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_the_open_run_comes_back_after_a_visit_to_another_page(studio):
    run_idea(studio)
    run_id = studio.query_params["run"]
    visit(visit(studio, "app_pages/gallery.py"), "app_pages/studio.py")
    assert studio.query_params["run"] == run_id
    assert output_box(studio, 1).value
    # a new idea really starts afresh, and stays so after another visit
    studio.button(key="studio_new").click().run()
    assert "run" not in studio.query_params
    visit(visit(studio, "app_pages/gallery.py"), "app_pages/studio.py")
    assert "run" not in studio.query_params
