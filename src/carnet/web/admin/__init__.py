"""The operators' area: for now its landing page, saying sign-in is needed."""
