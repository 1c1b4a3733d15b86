"""ChatCanvas service layer: plain Python, never imports streamlit."""
