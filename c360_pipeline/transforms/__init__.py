"""PySpark transforms (`DataFrame -> DataFrame`) that build the C360 tables."""
