"""Amazon S3: buckets, objects, listings, multipart uploads, versioning."""

from shipyard.services.base import ServiceRouter
from shipyard.services.s3 import buckets

router = ServiceRouter("s3")
for module in (buckets,):
    router.include(module.router)
