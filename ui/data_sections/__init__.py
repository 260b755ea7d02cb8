"""The Data page's sections, one module per tab (Streamlit-side; the numbers come from analysis/views/data/)."""
