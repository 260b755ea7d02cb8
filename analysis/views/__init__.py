"""What each page shows, one module per page: plain numbers and frames, never Streamlit."""
