"""The common bring-your-own-container baseline: Flask calling scikit-learn's ``KNeighborsClassifier.predict``.

This is what a typical custom SageMaker container does: parse the CSV body with numpy, call ``predict`` and return
JSON, under Flask's threaded development server (``app.run(threaded=True)``), which logs one line per request. It
fits the classifier on the same training sample the model artifact stores. Run as
``python -m benchmarks._flask_knn --model PATH --port PORT``; ``benchmarks/endpoint.py`` starts it.
"""

from __future__ import annotations

import argparse
import io

import numpy as np
from flask import Flask, Response, jsonify, request
from sklearn.neighbors import KNeighborsClassifier

from mysfits.model.artifact import load_model
from mysfits.model.knn import sample_arrays


def create_app(model_path: str) -> Flask:
    artifact = load_model(model_path)
    sample_X, sample_y = sample_arrays(artifact)
    classifier = KNeighborsClassifier(n_neighbors=artifact.k).fit(sample_X.astype(np.float64), sample_y)
    app = Flask(__name__)

    @app.get("/ping")
    def ping() -> Response:
        return Response(status=200)

    @app.post("/invocations")
    def invocations() -> Response:
        rows = np.loadtxt(io.StringIO(request.get_data(as_text=True)), delimiter=",", ndmin=2)
        labels = classifier.predict(rows)
        return jsonify({"predictions": [{"predicted_label": float(label)} for label in labels]})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    create_app(args.model).run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
