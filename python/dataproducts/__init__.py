"""dataproducts: the engineering side of the data products.

Data scientists publish tables (recommendations, experiment results, coaching queues)
with dbt; this package generates synthetic raw data, allocates experiments, and reads
the published tables.
"""

__version__ = "0.1.0"
