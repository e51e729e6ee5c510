"""Image Classification (``image-classification``): a ResNet trained from image files.

SageMaker's "image format": ``train`` / ``validation`` channels of ``.jpg`` / ``.png`` files
and ``train_lst`` / ``validation_lst`` channels of ``.lst`` files (``index<TAB>label<TAB>path``).
The network is a residual CNN in plain PyTorch whose depth follows ``num_layers``; there
are no pretrained weights, so ``use_pretrained_model=1`` trains from scratch. MXNet's
RecordIO image format (``application/x-recordio``) is not read.
"""

from shipyard.algorithms.content_types import IMAGE, IMAGE_TYPES, JSON, JSONLINES
from shipyard.algorithms.spec import Algorithm, Hyperparameter, Metric

ALGORITHM = Algorithm(
    name="image-classification",
    module="image_classification",
    title="Image Classification",
    family="image classification",
    repositories=("image-classification",),
    hyperparameters=(
        Hyperparameter("num_classes", "int", required=True, minimum=1, description="Number of output classes."),
        Hyperparameter("num_training_samples", "int", required=True, minimum=1, description="Number of training images."),
        Hyperparameter(
            "augmentation_type",
            "str",
            None,
            choices=("crop", "crop_color", "crop_color_transform"),
            description="Random crops and flips; crop_color adds colour jitter; crop_color_transform adds rotation, shear and aspect changes.",
        ),
        Hyperparameter("beta_1", "float", 0.9, minimum=0, maximum=1, description="adam's first-moment decay."),
        Hyperparameter("beta_2", "float", 0.999, minimum=0, maximum=1, description="adam's second-moment decay."),
        Hyperparameter(
            "checkpoint_frequency",
            "int",
            None,
            minimum=1,
            description="Epochs between checkpoints kept in the model; unset keeps the epoch with the best validation accuracy.",
        ),
        Hyperparameter("early_stopping", "bool", False, description="Stop when validation accuracy stops improving."),
        Hyperparameter("early_stopping_min_epochs", "int", 10, minimum=1, description="Epochs before early stopping may stop."),
        Hyperparameter("early_stopping_patience", "int", 5, minimum=1, description="Epochs without improvement before stopping."),
        Hyperparameter(
            "early_stopping_tolerance", "float", 0.0, minimum=0, maximum=1, description="Relative improvement that counts as one."
        ),
        Hyperparameter("epochs", "int", 30, minimum=1, description="Training epochs."),
        Hyperparameter("eps", "float", 1e-8, minimum=0, maximum=1, description="Epsilon of adam and rmsprop."),
        Hyperparameter("gamma", "float", 0.9, minimum=0, maximum=1, description="Squared-gradient decay of rmsprop."),
        Hyperparameter(
            "image_shape",
            "str",
            "3,224,224",
            description="'num_channels,height,width' of the network input (1 or 3 channels).",
        ),
        Hyperparameter(
            "kv_store", "str", None, choices=("dist_sync", "dist_async"), description="Distributed update mode (one host: unused)."
        ),
        Hyperparameter("learning_rate", "float", 0.1, minimum=0, maximum=1, description="Initial learning rate."),
        Hyperparameter("lr_scheduler_factor", "float", 0.1, minimum=0, maximum=1, description="Learning-rate factor at each step."),
        Hyperparameter("lr_scheduler_step", "str", None, description="Comma-separated epochs after which the learning rate drops."),
        Hyperparameter("mini_batch_size", "int", 32, minimum=1, description="Images per batch."),
        Hyperparameter("momentum", "float", 0.9, minimum=0, maximum=1, description="Momentum of sgd and nag."),
        Hyperparameter(
            "multi_label",
            "int",
            0,
            minimum=0,
            maximum=1,
            description="1: each image may have several labels (the .lst label columns are multi-hot).",
        ),
        Hyperparameter(
            "num_layers",
            "int",
            152,
            minimum=1,
            description="ResNet depth: 18, 34, 50, 101, 152, 200 (ImageNet-style) or 20, 32, 44, 56, 110 (CIFAR-style).",
        ),
        Hyperparameter("optimizer", "str", "sgd", choices=("sgd", "adam", "rmsprop", "nag"), description="The optimizer."),
        Hyperparameter(
            "precision_dtype", "str", "float32", choices=("float32", "float16"), description="Weight precision (CPU: float32 always)."
        ),
        Hyperparameter("resize", "int", None, minimum=1, description="Resize each image's shorter side to this many pixels first."),
        Hyperparameter("top_k", "int", None, minimum=2, description="Also report the top-k accuracy."),
        Hyperparameter(
            "use_pretrained_model",
            "int",
            0,
            minimum=0,
            maximum=1,
            description="Accepted; no pretrained weights are available here, so training starts from scratch.",
        ),
        Hyperparameter(
            "use_weighted_loss",
            "int",
            0,
            minimum=0,
            maximum=1,
            description="Weight the multi-label loss by the class distribution.",
        ),
        Hyperparameter("weight_decay", "float", 0.0001, minimum=0, maximum=1, description="Weight decay of sgd and nag."),
    ),
    metrics=(
        Metric("train:accuracy", r"Epoch\[\d+\] Train-accuracy=(\S+)", maximize=True),
        Metric("train:accuracy:epoch", r"Epoch\[\d+\] Train-accuracy=(\S+)", maximize=True),
        Metric("validation:accuracy", r"Epoch\[\d+\] Validation-accuracy=(\S+)", maximize=True),
        Metric("validation:accuracy:epoch", r"Epoch\[\d+\] Validation-accuracy=(\S+)", maximize=True),
    ),
    channels={"train": True, "train_lst": True, "validation": False, "validation_lst": False},
    content_types=IMAGE_TYPES,
    default_content_type=IMAGE,
    inference_content_types=IMAGE_TYPES,
    accept_types=(JSON, JSONLINES),
    deep=True,
    notes=(
        "Image format only (image files plus .lst channels); application/x-recordio is refused. "
        "No pretrained weights: use_pretrained_model=1 trains from scratch."
    ),
)
