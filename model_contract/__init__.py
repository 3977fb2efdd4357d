"""The model contract, between training and everything that runs a model: the model spec, the
metadata an ONNX file carries, preprocessing, output decoding and the registry client. Torch-free:
the workers, the KServe server and the agents import it without training (see ARCHITECTURE.md)."""
