"""calibrate: assessor calibration for complex professional skills.

The package owns the kijkkader frameworks, the score store, agreement, phases,
drift and the kalibreersessie report; widgets and the CLI sit on the outside.
"""

__version__ = "0.1.0"

from . import _clock  # noqa: E402,F401  the cores' idle clock from the first import on (report.worker)
