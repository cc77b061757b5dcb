"""Free text to meaning, one module per concept: ``text`` (normalization), ``keywords`` (and yes/no), ``numbers``,
``choices`` (and interests), ``communes``, ``names``.

Residents write short, misspelled, unaccented, all-caps or chatty messages ("bjr je voudrais minscrire pr l
atelier", "st victor", "03410", "le 2", "OUI MERCI", "👍"). Everything here is pure (no I/O), total (any text,
even empty, 1,600 characters, emoji, control characters, HTML or another script, returns a value and never
raises) and fast: it runs on every inbound message.

Being conservative is a feature: a wrong meaning (a false STOP, a wrong commune) is worse than a question
asked again, so ambiguous text gives ``None`` / "several" and the dialogue asks.

Suggested order for the dialogue: ``detect_keyword`` first (at any step), then the step's own parser. At the
name step call ``looks_like_name`` before ``is_greeting`` ("Bonjour, je m'appelle Martine Dupont" is both).

Fuzzy matching uses rapidfuzz (https://rapidfuzz.github.io/RapidFuzz/): Levenshtein/OSA distances on
normalized text, with allowances that grow with the length of the word.
"""
