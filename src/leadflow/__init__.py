"""leadflow: sales and marketing alignment, executable."""

__version__ = "0.1.0"
