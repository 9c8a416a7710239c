print("consort")
