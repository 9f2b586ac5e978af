"""
Runs over many pairs and images: work folders in, files and results out.

Files are read box by box and written atomically; every run goes through
`pool_workers` (in this process for small runs, a process pool or any
executor for big ones) and counts a bad pair or image instead of stopping.

- differences: `compute_difference` (one pair), `compute_differences`
  (mDiffExec);
- plane fits: `fit_planes` (mFitExec), `differences_and_fits`
  (mDiffFitExec);
- corrections: `correct_file` (mBackground), `apply_corrections` (mBgExec);
- in-memory images: `difference`, `differences`, `as_projected`;
- the mosaic: `make_template`, `project_images`, `coadd`;
- the dashboard's data: `load_workspace`.
"""

from diffview.lazy import attach

#: Public name -> the module that defines it, imported on first use (PEP 562),
#: so that importing the package loads only what is used.
_LAZY = {
    "WorkFolder": "._folder",
    "find_work": "._folder",
    "check_output_dir": "._pairs",
    "resolve_inside": "._pairs",
    "POOL_SECONDS": "._parallel",
    "chunked": "._batches",
    "executor_workers": "._batches",
    "split_by_cost": "._batches",
    "TASK_SECONDS": "._batches",
    "default_workers": "._parallel",
    "pool_workers": "._parallel",
    "run_tasks": "._parallel",
    "split_chunks": "._batches",
    "PREVIEW_SIZE": "._preview",
    "Preview": "._preview",
    "preview_factor": "._preview",
    "CorrectionsResult": ".corrections",
    "apply_corrections": ".corrections",
    "correct_file": ".corrections",
    "DifferencesResult": "._differences",
    "compute_difference": "._differences",
    "compute_differences": "._differences",
    "difference_cards": "._differences",
    "difference_header": "._differences",
    "template_cards": "._differences",
    "write_difference": "._differences",
    "FitPlanesResult": ".fits",
    "differences_and_fits": ".fits",
    "fit_planes": ".fits",
    "read_difference_file": ".fits",
    "ProjectedImage": ".images",
    "as_projected": ".images",
    "common_grid": ".images",
    "difference": ".images",
    "differences": ".images",
    "image_overlaps": ".images",
    "ProjectResult": ".mosaic",
    "coadd": ".mosaic",
    "make_template": ".mosaic",
    "pixel_solid_angle": ".mosaic",
    "project_image": ".mosaic",
    "project_images": ".mosaic",
    "Workspace": ".workspace",
    "as_fits_list": ".workspace",
    "load_workspace": ".workspace",
}

__all__ = [
    "compute_difference",
    "write_difference",
    "difference_header",
    "template_cards",
    "difference_cards",
    "compute_differences",
    "DifferencesResult",
    "check_output_dir",
    "resolve_inside",
    "read_difference_file",
    "fit_planes",
    "differences_and_fits",
    "FitPlanesResult",
    "correct_file",
    "apply_corrections",
    "CorrectionsResult",
    "ProjectedImage",
    "as_projected",
    "common_grid",
    "image_overlaps",
    "difference",
    "differences",
    "make_template",
    "project_image",
    "project_images",
    "ProjectResult",
    "coadd",
    "pixel_solid_angle",
    "WorkFolder",
    "Workspace",
    "Preview",
    "PREVIEW_SIZE",
    "preview_factor",
    "find_work",
    "load_workspace",
    "as_fits_list",
    "pool_workers",
    "POOL_SECONDS",
    "run_tasks",
    "default_workers",
    "split_chunks",
    "chunked",
    "executor_workers",
    "split_by_cost",
    "TASK_SECONDS",
]


__getattr__, __dir__ = attach(__name__, _LAZY, __all__)
