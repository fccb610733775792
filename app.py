#!/usr/bin/env python3
"""The DataPalooza CDK app (what ``cdk synth`` / ``cdk deploy`` run): one stack per
challenge. Composition root: settings come from CDK context (cdk.json, ``-c``), and the
face-detection model artifact is built here from the installed model wheel.

    npx cdk synth                       # offline, no AWS account needed
    npx cdk deploy DataPalooza-Challenge1-Endpoint
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App

from model.build import build_model_artifact
from stacks.app_builder import build_app, cdk_json_context
from stacks.build.container_image import wheel_platform
from stacks.settings import AppSettings

MODEL_BUILD_DIR = Path(__file__).resolve().parent / "build" / "model"


def main() -> None:
    # cdk.json's context as defaults: the CLI's own context (and -c values) still win.
    app = App(context=cdk_json_context())
    settings = AppSettings.from_context(app.node.try_get_context)
    artifact = build_model_artifact(MODEL_BUILD_DIR, platform=wheel_platform(settings))
    build_app(app, settings=settings, model_artifact=artifact)
    app.synth()


if __name__ == "__main__":
    main()
