"""The one family of errors Digit Lens raises on purpose.

Every message is a single line that says what was wrong and what to do, so the
command line and the app can show it as it is, without a traceback.
"""


class DigitLensError(Exception):
    """Base class: anything a user can cause and fix."""


class DataError(DigitLensError):
    """MNIST files are missing, unreadable or not what they claim to be."""


class ImageError(DigitLensError):
    """An input image cannot be read or turned into a digit."""


class ModelError(DigitLensError):
    """A model file is missing, damaged, tampered with or does not match its card."""


class TrainingError(DigitLensError):
    """Training parameters that cannot work together."""


class StorageError(DigitLensError):
    """The saved-digits database cannot be opened, read or written as asked."""
