from setuptools import find_packages, setup

setup(
    name="lakeforge",
    version="0.1.0",
    description="Lakehouse ML platform on Apache Spark and Delta Lake",
    package_dir={"": "lib"},
    packages=find_packages("lib"),
    package_data={"lakeforge": ["py.typed"]},
    python_requires=">=3.11",
    # Exact versions live in requirements/constraints.txt; these are the ranges the code needs.
    install_requires=[
        "pyspark>=4.0,<4.1",
        "delta-spark>=4.0,<4.1",
        "pydantic>=2.10,<3",
        "pyyaml>=6",
        "requests>=2.31",
        "great-expectations>=1.24,<2",
        "tqdm>=4.66",
    ],
    entry_points={"console_scripts": ["lakeforge=lakeforge.cli:main"]},
)
