"""``python -m shipyard.monitoring.analyzer [ML_ROOT]``: one Model Monitor analyzer run.

``ML_ROOT`` is where the job's ``/opt/ml`` is (default ``/opt/ml``). Exits 0 when the
analysis ran, whether or not it found violations; otherwise 1, with the reason in
``/opt/ml/output/failure``.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from shipyard.monitoring.analyzer import data_quality, hooks
from shipyard.monitoring.analyzer.environment import (
    OPT_ML,
    AnalyzerError,
    read_settings,
)
from shipyard.monitoring.analyzer.outputs import (
    exit_message,
    write_failure,
    write_message,
)


def main(argv: list[str]) -> int:
    ml_root = Path(argv[0]) if argv else Path(OPT_ML)
    try:
        settings = read_settings(os.environ, ml_root)
        print(f"Model Monitor analyzer: {settings.analysis_type}, {'execution' if settings.is_execution else 'baseline'}")
        print(f"Dataset {settings.dataset_source} ({next(iter(settings.dataset_format))}), output {settings.output_path}")
        if settings.analysis_type == "MODEL_QUALITY":
            # Imported here: scikit-learn takes a third of a second to import.
            from shipyard.monitoring.analyzer import model_quality

            violations = model_quality.run(settings)
        else:
            violations = data_quality.run(settings)
        if settings.post_processor is not None:
            hooks.postprocess(settings.post_processor)
    except AnalyzerError as error:
        print(f"Analysis failed: {error}", file=sys.stderr)
        write_failure(ml_root, str(error))
        return 1
    except Exception as error:  # noqa: BLE001 - a bug, or data the analyzer did not expect: said in the failure
        traceback.print_exc()
        write_failure(ml_root, f"Internal error in the analyzer: {error!r}")
        return 1
    message = exit_message(violations)
    write_message(ml_root, message)
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
