"""Synthetic payer book and partner-system EHR with planted, recorded effects.

``generate_population`` writes one file per canonical table and the planted truth
(``truth/truth.json``, ``truth/true_pcp.parquet``, ``truth/true_links.parquet``,
``truth/opioid_taper.parquet``). ``SynthConfig`` holds every parameter, with defaults.
"""

from payvider.synth.config import SynthConfig
from payvider.synth.generate import OUTPUT_TABLES, generate_population

__all__ = ["OUTPUT_TABLES", "SynthConfig", "generate_population"]
