"""The data loop on the operator's side: from the visitors' choices to a new serving model, and the proof it learns.

Choices are evidence about taste only after what the visitor was shown is taken into account (``exposure``); a
challenger is trained on that (``retrain``) and replaces the champion only on evidence (``judge``). ``cli`` is
``mysfits retrain``; ``simulate`` plays the whole loop through the local API.
"""
