"""Object Detection (``object-detection``): a single-shot detector trained from image files.

SageMaker's "image format": ``train`` / ``validation`` channels of ``.jpg`` / ``.png`` files
and ``train_annotation`` / ``validation_annotation`` channels of one JSON file per image
(``file``, ``image_size``, ``annotations`` with ``class_id``/``left``/``top``/``width``/``height``).
The detector is a compact single-shot network in plain PyTorch (center heatmaps plus box
sizes, decoded with non-maximum suppression); ``base_network`` picks VGG-style or
ResNet-style blocks for its backbone, far smaller than the full networks, and there are no
pretrained weights. ``validation:mAP`` is the mean average precision at
``overlap_threshold`` on the validation channel.
"""

from shipyard.algorithms.content_types import IMAGE, IMAGE_TYPES, JSON, JSONLINES
from shipyard.algorithms.spec import Algorithm, Hyperparameter, Metric

ALGORITHM = Algorithm(
    name="object-detection",
    module="object_detection",
    title="Object Detection",
    family="object detection",
    repositories=("object-detection",),
    hyperparameters=(
        Hyperparameter("num_classes", "int", required=True, minimum=1, description="Number of object classes."),
        Hyperparameter("num_training_samples", "int", required=True, minimum=1, description="Number of training images."),
        Hyperparameter("base_network", "str", "vgg-16", choices=("vgg-16", "resnet-50"), description="Backbone block style."),
        Hyperparameter("early_stopping", "bool", False, description="Stop when validation mAP stops improving."),
        Hyperparameter("early_stopping_min_epochs", "int", 10, minimum=1, description="Epochs before early stopping may stop."),
        Hyperparameter("early_stopping_patience", "int", 5, minimum=1, description="Epochs without improvement before stopping."),
        Hyperparameter(
            "early_stopping_tolerance", "float", 0.0, minimum=0, maximum=1, description="Relative mAP improvement that counts as one."
        ),
        Hyperparameter(
            "image_shape",
            "int",
            300,
            minimum=16,
            description="Side of the square network input (SageMaker recommends 300 or 512; smaller sizes are allowed here).",
        ),
        Hyperparameter("epochs", "int", 30, minimum=1, description="Training epochs."),
        Hyperparameter("freeze_layer_pattern", "str", None, description="Regex of backbone parameter names to keep frozen."),
        Hyperparameter(
            "kv_store", "str", None, choices=("dist_sync", "dist_async"), description="Distributed update mode (one host: unused)."
        ),
        Hyperparameter("label_width", "int", 350, minimum=1, description="Padded label width of MXNet's loader (accepted, unused)."),
        Hyperparameter(
            "learning_rate", "float", 0.001, minimum=0, maximum=1, exclusive_minimum=True, description="Initial learning rate."
        ),
        Hyperparameter(
            "lr_scheduler_factor",
            "float",
            0.1,
            minimum=0,
            maximum=1,
            exclusive_minimum=True,
            description="Learning-rate factor at each step.",
        ),
        Hyperparameter("lr_scheduler_step", "str", None, description="Comma-separated epochs after which the learning rate drops."),
        Hyperparameter("mini_batch_size", "int", 32, minimum=1, description="Images per batch."),
        Hyperparameter("momentum", "float", 0.9, minimum=0, maximum=1, exclusive_minimum=True, description="Momentum of sgd."),
        Hyperparameter(
            "nms_threshold", "float", 0.45, minimum=0, maximum=1, exclusive_minimum=True, description="Non-maximum suppression IoU."
        ),
        Hyperparameter(
            "optimizer", "str", "sgd", choices=("sgd", "adam", "rmsprop", "adadelta"), description="The optimizer."
        ),
        Hyperparameter(
            "overlap_threshold",
            "float",
            0.5,
            minimum=0,
            maximum=1,
            exclusive_minimum=True,
            description="IoU at which a detection matches a ground-truth box in validation:mAP.",
        ),
        Hyperparameter(
            "use_pretrained_model",
            "int",
            1,
            minimum=0,
            maximum=1,
            description="Accepted; no pretrained weights are available here, so training starts from scratch.",
        ),
        Hyperparameter(
            "weight_decay",
            "float",
            0.0005,
            minimum=0,
            maximum=1,
            exclusive_minimum=True,
            description="Weight decay of sgd and rmsprop.",
        ),
    ),
    metrics=(
        Metric("train:progress", r"#progress_metric: host=\S+, completed (\S+) %", maximize=True),
        Metric("train:smooth_l1", r"#quality_metric: host=\S+, epoch=\S+, batch=\S+ train smooth_l1 <loss>=(\S+)"),
        Metric("train:cross_entropy", r"#quality_metric: host=\S+, epoch=\S+, batch=\S+ train cross_entropy <loss>=(\S+)"),
        Metric("train:throughput", r"#throughput_metric: host=\S+, train throughput=(\S+) records/second", maximize=True),
        Metric("validation:mAP", r"#quality_metric: host=\S+, epoch=\S+, validation mAP <score>=\((\S+)\)", maximize=True),
    ),
    channels={"train": True, "train_annotation": True, "validation": False, "validation_annotation": False},
    content_types=IMAGE_TYPES,
    default_content_type=IMAGE,
    inference_content_types=IMAGE_TYPES,
    accept_types=(JSON, JSONLINES),
    deep=True,
    notes=(
        "Image format only (image files plus JSON annotation channels); application/x-recordio is refused. "
        "A compact single-shot detector, not the full VGG-16/ResNet-50 SSD; no pretrained weights."
    ),
)
