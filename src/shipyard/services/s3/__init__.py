"""Amazon S3: buckets, objects, listings, multipart uploads, versioning."""

from shipyard.services.base import ServiceRouter
from shipyard.services.s3 import buckets, listing, multipart, objects

router = ServiceRouter("s3")
for module in (buckets, objects, listing, multipart):
    router.include(module.router)
