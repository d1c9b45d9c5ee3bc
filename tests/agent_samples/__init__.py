"""Running the agents' code samples: the Sybil parser and evaluators, and the set-ups.

What each sample is expected to do comes from ``agentkb.verification`` (the same
classification the site shows); ``checks`` enforces it, ``setups`` and
``exercises`` hold the functions the sidecars name, and ``project/`` is the
``src`` package the typescript-fastapi agent's samples import from.
"""
