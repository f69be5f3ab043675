"""The gallery: labelled crops of products the node gathers by itself (docs/gallery.md). Storage, layer 4."""

from edge.gallery.ledger import Ledger
from edge.gallery.records import Crop, GalleryExample, GalleryStatus, ItemRecord, ReviewAnswer, SkuSummary
from edge.gallery.store import Gallery, gallery_path

__all__ = ["Crop", "Gallery", "GalleryExample", "GalleryStatus", "ItemRecord", "Ledger", "ReviewAnswer",
           "SkuSummary", "gallery_path"]
