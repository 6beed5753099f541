"""What the app's pages share (Streamlit): the session's models, the explanation view, figures.

Kept outside ``pages/`` (as Streamlit's own ``hello`` demo keeps its helpers
beside its page list), so that ``pages/`` holds page scripts only.
"""
