"""The patients' area: the public home page and the language preference; the space comes later."""
