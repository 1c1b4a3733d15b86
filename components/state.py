"""The session-state plan: every key this app keeps, in one place, with its owner.

Session state holds the working copy of what is on screen, ids and small UI state; never
image bytes or a whole gallery (those are read from the store, paginated).
"""

# owner: app.py (router)
APP_CONTEXT = "app_context"  # AppContext for this rerun: settings, translator, stores, services
LANG = "lang"  # UI language widget ("en" | "ko")

# owner: components/sidebar.py (connection panel); values live only in this browser session
SIDEBAR_OPENAI_KEY = "sidebar_openai_key"
SIDEBAR_OPENAI_BASE_URL = "sidebar_openai_base_url"
SIDEBAR_KAKAO_KEY = "sidebar_kakao_key"
LIVE_MODELS = "live_models"  # {(base_url, key fingerprint): list[LiveModel]}
CONNECTION_ERROR = "connection_error"  # {(base_url, key fingerprint): ChatCanvasError}

# owner: pages/chat.py and components/conversation_list.py
CHAT_MODEL = "chat_model"
CHAT_TEMPERATURE = "chat_temperature"
CHAT_MAX_TOKENS = "chat_max_tokens"
CHAT_PRESET = "chat_preset"
CHAT_SYSTEM_PROMPT = "chat_system_prompt"
CHAT_LOADED_CONVERSATION = "chat_loaded_conversation"  # id whose settings fill the widgets
CHAT_SHOWN = "chat_shown"  # how many of the newest messages the transcript shows
CHAT_ACTION = (
    "chat_action"  # a turn requested by a button: ("retry",) ("regenerate",) ("edit", text)
)
CHAT_ERROR = "chat_error"  # {message_id, kind, detail, retry_after, param} of the last failure
CHAT_EDITING = "chat_editing"  # True while the last user message is being edited
CHAT_SEARCH = "chat_search"
CHAT_LIST_LIMIT = "chat_list_limit"
