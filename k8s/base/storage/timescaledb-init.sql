-- Run once by the postgres image on an empty data folder: MLflow keeps its tables apart from history.
CREATE DATABASE mlflow OWNER fieldstream;
