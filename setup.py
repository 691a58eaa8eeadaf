from setuptools import find_packages, setup

# Ranges the code needs; the exact, tested set is requirements/constraints.txt. The core runs ingestion,
# quality and the pipelines; each extra adds one capability, so a cluster library (Databricks, EMR)
# installs only what its jobs import: `pip install "lakeforge[ml]"`.
CORE = [
    "pyspark>=4.0,<4.1",
    "delta-spark>=4.0,<4.1",
    "pydantic>=2.10,<3",
    "pyyaml>=6",
    "requests>=2.31",
    "great-expectations>=1.24,<2",
    "tqdm>=4.66",
    # pyspark's pandas and Arrow paths (toPandas, pandas UDFs); numpy and pandas held where pyarrow 14 works.
    "numpy>=1.26,<2",
    "pandas>=2.2,<2.4",
    "pyarrow>=14,<15",
]
EXTRAS = {
    # churn and housing training, tracking and reports
    "ml": ["mlflow>=3.0,<4", "scikit-learn>=1.5", "scipy>=1.13", "matplotlib>=3.8", "optuna>=3.6"],
    # image transfer learning. petastorm 0.13.1 declares setuptools<70, which torch rules out: install it
    # with `pip install --no-deps petastorm==0.13.1` (requirements/nodeps.txt); these are its real needs.
    "images": [
        "mlflow>=3.0,<4", "matplotlib>=3.8", "torch>=2.4", "torchvision>=0.19", "pillow>=10",
        "dill", "diskcache", "future", "psutil", "pyzmq", "fsspec",
    ],
    # Kafka sources with Avro values (value_format: avro): the schema registry client
    "avro": ["confluent-kafka[avro,schemaregistry]>=2.4"],
    # the MQTT -> Kafka bridge, the simulator and the IoT stream's topic set-up
    "iot": ["paho-mqtt>=2.1,<3", "confluent-kafka>=2.4", "kafka-python>=2.0.2"],
    # drift and online statistics over inference logs
    "monitoring": ["river>=0.21", "prometheus-client>=0.20"],
    # the model-serving API
    "serve": ["fastapi>=0.110", "uvicorn>=0.29", "uvloop>=0.19", "httptools>=0.6", "httpx>=0.27", "prometheus-client>=0.20"],
    # S3 storage and the AWS deployment targets
    "aws": ["boto3>=1.34"],
    # the demo's seeded PostgreSQL source
    "demo": ["psycopg2-binary>=2.9"],
    # `lakeforge workflow schedule`
    "workflows": ["croniter>=2.0", "tenacity>=8.2"],
}
EXTRAS["all"] = sorted({requirement for requirements in EXTRAS.values() for requirement in requirements})

setup(
    name="lakeforge",
    version="0.1.0",
    description="Lakehouse ML platform on Apache Spark and Delta Lake",
    package_dir={"": "lib"},
    packages=find_packages("lib"),
    package_data={"lakeforge": ["py.typed"]},
    python_requires=">=3.11",
    install_requires=CORE,
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["lakeforge=lakeforge.cli:main"]},
)
