"""Adds a user to the users table (run by hand, not part of the API)."""

import getpass


def main():
    print(getpass.getuser())


if __name__ == "__main__":
    main()
