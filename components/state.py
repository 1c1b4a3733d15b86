"""The session-state plan: every key this app keeps, in one place, with its owner.

Session state holds the working copy of what is on screen, ids and small UI state; never
image bytes or a whole gallery (those are read from the store, paginated).
"""

# owner: app.py (router)
APP_CONTEXT = "app_context"  # AppContext for this rerun: settings, translator, stores, services
SIGN_IN_RETURNED = "sign_in_returned"  # the address kept before sign-in was reopened (once)
LANG = "lang"  # UI language widget ("en" | "ko")
LANG_IN_URL = "lang_in_url"  # the URL keeps ?lang= (chosen here, or the link named it)
DEMO = "demo"  # True: this session chose the demo on the first-run panel (local mode only)

# owner: components/sidebar.py (connection panel); values live only in this browser session
SIDEBAR_OPENAI_KEY = "sidebar_openai_key"
SIDEBAR_OPENAI_BASE_URL = "sidebar_openai_base_url"
SIDEBAR_KAKAO_KEY = "sidebar_kakao_key"
# a person's own OpenAI-compatible image server, typed in a compatible lane (this session only)
OWN_IMAGE_SERVER_URL = "own_image_server_url"
OWN_IMAGE_SERVER_KEY = "own_image_server_key"
OWN_IMAGE_SERVER_MODEL = "own_image_server_model"
LIVE_MODELS = "live_models"  # {(base_url, key fingerprint): list[LiveModel]}
CONNECTION_ERROR = "connection_error"  # {(base_url, key fingerprint): ChatCanvasError}

# owner: app_pages/chat.py and components/conversation_list.py
CHAT_MODEL = "chat_model"
CHAT_TEMPERATURE = "chat_temperature"
CHAT_MAX_TOKENS = "chat_max_tokens"
CHAT_PRESET = "chat_preset"
CHAT_SYSTEM_PROMPT = "chat_system_prompt"
CHAT_LOADED_CONVERSATION = "chat_loaded_conversation"  # id whose settings fill the widgets
CHAT_OPEN = "chat_open"  # the open conversation's id, to reopen it after another page
CHAT_PART = "chat_part"  # what a full run prepared for the conversation part (fragment) to draw
CHAT_PART_SETTINGS = "chat_part_settings"  # (model, options, settings_read()) of the last page run
# the open conversation as the input's callback read it, for the part's run it starts
CHAT_SENT_IN = "chat_sent_in"
CHAT_SHOWN = "chat_shown"  # how many of the newest messages the transcript shows
CHAT_ACTION = (
    "chat_action"  # a button's request: ("retry",) ("regenerate",) ("edit", text) ("version", id)
)
# {message_id, error, connection (fingerprint it failed with)} of the last failure
CHAT_ERROR = "chat_error"
CHAT_EDITING = "chat_editing"  # True while the last user message is being edited
CHAT_SEARCH = "chat_search"
CHAT_LIST_LIMIT = "chat_list_limit"

# owner: components/message_images.py (images attached to the message being written)
# [ChatImage]: the checked, downscaled images that go with the next message. The one place
# image bytes sit in the session: they exist nowhere else until sent (at most MAX_IMAGES)
CHAT_ATTACHED = "chat_attached"
CHAT_HELD = "chat_held"  # text of a message refused before sending (no vision), kept to resend
CHAT_ATTACH_ERRORS = "chat_attach_errors"  # [ChatCanvasError]: files refused, shown once
CHAT_ASK_IMAGE = "chat_ask_image"  # a gallery image id to attach ("Ask about this image")

# owner: components/voice.py and components/read_aloud.py (voice input, read aloud)
VOICE_NAME = "voice_name"  # the read-aloud voice
VOICE_SPEED = "voice_speed"
VOICE_AUTOPLAY = "voice_autoplay"  # True: a new answer is read aloud as it is stored
# {where ("chat" | "studio"): {"audio": bytes, "text": typed text, "error": ChatCanvasError}}:
# a recording that was not turned into text, kept for another try (one short WAV at most)
VOICE_KEPT = "voice_kept"
VOICE_PLAYING = "voice_playing"  # id of the message whose audio is shown under it
VOICE_NEW = "voice_new"  # id of the answer just written in this session (autoplay reads it)

# owner: app_pages/studio.py and components/chain_steps.py, final_prompt.py, template_editor.py,
# template_draft.py
STUDIO_IDEA = "studio_idea"
STUDIO_CHAIN = "studio_chain"  # id of the chain a new run uses (built-in id or template id)
STUDIO_MODEL = "studio_model"
STUDIO_BACK_TRANSLATE = "studio_back_translate"
STUDIO_ACTION = "studio_action"  # ("run", start_at) requested by a step's button
STUDIO_LOADED_RUN = "studio_loaded_run"  # run id whose settings fill the idea form
STUDIO_SHOWN = "studio_shown"  # fingerprint of the run outputs the text areas were filled from
STUDIO_STEP_OUTPUT = "studio_out_{run}_{index}"  # a step's editable answer (format it)
STUDIO_FINAL_PROMPT = "studio_final_prompt"
STUDIO_NEGATIVE_PROMPT = "studio_negative_prompt"
STUDIO_DRAFT = "studio_draft"  # the template being edited: {"id": str | None, "steps": [uid]}
STUDIO_DRAFT_FIELD = "studio_tpl_{field}"  # the draft's name / default model / prompt limit
STUDIO_DRAFT_STEP = "studio_tpl_{uid}_{field}"  # one draft step's name, template, ...

# owner: app_pages/compare.py (reads them); written by the Prompt Studio's "Send to Compare"
COMPARE_PROMPT = "compare_prompt"
COMPARE_NEGATIVE_PROMPT = "compare_negative_prompt"
COMPARE_STUDIO_RUN_ID = "compare_studio_run_id"  # the studio run the prompt came from
COMPARE_LANES = "compare_lanes"  # [{"id", "provider", "model"}]; widget values keyed by lane id
COMPARE_LANE_FIELD = "compare_{lane}_{field}"  # one lane's parameter widget (format it)
COMPARE_BLIND = "compare_blind"
COMPARE_KARLO_PROMPT = "compare_karlo_prompt"  # the English prompt Karlo lanes send
COMPARE_LAST_RUN = "compare_last_run"  # id of the stored run on screen
COMPARE_KARLO_ERROR = "compare_karlo_error"  # why the last Karlo translation failed
COMPARE_AUTORUN = "compare_autorun"  # a stored run id: run again with its seeds, next rerun
COMPARE_KARLO_HERE = "compare_karlo_here"  # a stored run id: add a local Karlo lane, next rerun
# {"image": id, "go": bool}: send that image's revised prompt to the other lanes of its run
# (components/revised_prompt_send.py; "go" until it ran or the safety check held it)
COMPARE_SEND_REVISED = "compare_send_revised"
# {run_id: {lane index: UnsavedLane}}: paid images the database refused to store, kept for
# download in this session only (the one place image bytes live in session state)
COMPARE_UNSAVED = "compare_unsaved"
STUDIO_GENERATED = "studio_generated"  # {studio run id: compare run id} made by "Generate here"

# owner: app_pages/grid.py and components/grid_view.py (prompt-by-engine grids)
GRID_TYPED = "grid_typed"  # the typed rows, one prompt per line
GRID_PICKED = "grid_picked"  # rows taken from studio runs: [GridRowSpec.to_json()]
GRID_NEGATIVE = "grid_negative"  # the negative prompt of the typed rows
GRID_LANES = "grid_lanes"  # the columns, as COMPARE_LANES ({"id", "provider", "model"})
GRID_STUDIO_RUN = "grid_studio_run"  # the studio run whose prompts the picker offers
GRID_STUDIO_CHOICES = "grid_studio_choices"  # the picker's chosen variants (indexes)
GRID_CONFIRMED = "grid_confirmed"  # the person accepted an estimate above the threshold
GRID_LAST = "grid_last"  # id of the stored grid on screen
# {grid_id: {(row, column): UnsavedLane}}: cells the database refused, for download
GRID_UNSAVED = "grid_unsaved"

# owner: components/moderation_panel.py (the safety check before paying)
MODERATION_ON = "moderation_on"  # Compare's toggle; starts from the MODERATION_CHECK setting
# {where ("compare" | "studio" | "idea" | "revised"): {"held": HeldCheck, "approved": texts, "resume": True}}
MODERATION_HELD = "moderation_held"
MODERATION_IMAGE_ERRORS = "moderation_image_errors"  # {image id: ChatCanvasError} of a failed check

# owner: components/image_edit.py; the widgets keep what was typed and uploaded (keys per image)
IMAGE_EDITS = "image_edits"  # {source image id: {"made": [edit image ids]} | {"error": err}}

# owner: components/flagged_image.py
FLAGGED_SHOWN = "flagged_shown"  # keys of flagged images the person chose to see, this session

# owner: app_pages/gallery.py and components/gallery_*.py; the page number lives in the URL (?page=)
GALLERY_TAB = "gallery_tab"  # label of the open tab (images / leaderboard / costs)
GALLERY_PROVIDER = "gallery_provider"  # filter widgets
GALLERY_MODEL = "gallery_model"
GALLERY_TEXT = "gallery_text"
GALLERY_DATES = "gallery_dates"
GALLERY_SELECTED = "gallery_selected"  # ids of the ticked images (ids only, never bytes)
GALLERY_PICK = "gallery_pick_{id}"  # one tile's checkbox, mirrors GALLERY_SELECTED (format it)
GALLERY_OPEN = "gallery_open"  # id of the image in the detail dialog
GALLERY_CONFIRM = "gallery_confirm"  # "image" | "selection": a delete waiting for Confirm
