"""Member ↔ patient identity resolution: which payer member is which EHR patient.

Deterministic keys first, then a probabilistic model (Splink) on what is left, with a one-to-one
crosswalk and a review queue for the uncertain pairs. See ``docs/linkage.md``.
"""

from payvider.link.linkage import CROSSWALK_SCHEMA, REVIEW_SCHEMA, LinkResult, link
from payvider.link.settings import LinkSettings

__all__ = ["CROSSWALK_SCHEMA", "REVIEW_SCHEMA", "LinkResult", "LinkSettings", "link"]
