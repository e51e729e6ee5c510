"""Amazon S3: buckets, objects, listings, multipart uploads, versioning."""

from shipyard.services.base import ServiceRouter
from shipyard.services.s3 import buckets, objects

router = ServiceRouter("s3")
for module in (buckets, objects):
    router.include(module.router)
