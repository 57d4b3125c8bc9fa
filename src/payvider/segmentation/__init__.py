"""Provider segmentation: the three seed factors per organization (``factors``), scored into
tiers and a recommended partnership depth (``scoring``)."""

from payvider.segmentation.scoring import provider_segmentation

__all__ = ["provider_segmentation"]
