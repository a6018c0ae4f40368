(* Activations (THEORY.md section 2; FORMAL_PLAN.md "Activations carry their
   pieces"): a continuous piecewise-C1 activation is given by strictly
   increasing breakpoints c_0 < ... < c_(m-1) (0-indexed) and pieces
   p_0 .. p_m, each C1 on all of R with derivative function dp_i, such that
   p_i c_i = p_(i+1) c_i.  Piece i is used on the closed interval
   [c_(i-1), c_i].  One-sided slopes, kinks (ndf(sigma)), the derivative with
   a choice used by AD, and the PyTorch instances of the table in section 2. *)
From Coq Require Import Reals Lra Lia List Sorted.
From Coquelicot Require Import Coquelicot.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

Record activation := mk_act {
  bps : list R;                        (* breakpoints c_0 < ... < c_(m-1) *)
  piece : nat -> R -> R;               (* p_i, meaningful for i <= m *)
  dpiece : nat -> R -> R;              (* derivative of p_i *)
  bps_sorted : Sorted Rlt bps;
  piece_derive : forall i x, is_derive (piece i) x (dpiece i x);
  dpiece_cont : forall i x, continuous (dpiece i) x;
  piece_agree : forall i, (i < length bps)%nat ->
    piece i (nth i bps 0) = piece (S i) (nth i bps 0)
}.

(* number of breakpoints strictly below x / at most x *)
Definition nbelow (l : list R) (x : R) : nat :=
  length (filter (fun c => if Rlt_dec c x then true else false) l).
Definition nle (l : list R) (x : R) : nat :=
  length (filter (fun c => if Rle_dec c x then true else false) l).

(* the piece whose closed interval contains x (the left one at a breakpoint) *)
Definition act_eval (a : activation) (x : R) : R := piece a (nbelow (bps a) x) x.

(* index of the piece to the left / right of x *)
Definition left_piece (a : activation) (x : R) : nat := nbelow (bps a) x.
Definition right_piece (a : activation) (x : R) : nat := nle (bps a) x.

Definition slope_left (a : activation) (x : R) : R := dpiece a (left_piece a x) x.
Definition slope_right (a : activation) (x : R) : R := dpiece a (right_piece a x) x.

Definition is_kink (a : activation) (c : R) : Prop :=
  In c (bps a) /\ slope_left a c <> slope_right a c.

Definition kinks (a : activation) : list R :=
  filter (fun c => if Req_EM_T (slope_left a c) (slope_right a c) then false else true)
    (bps a).

(* derivative with a choice d used at kinks; at a non-kink breakpoint both
   slopes agree, off breakpoints both are the piece's derivative *)
Definition act_deriv_choice (a : activation) (d : R) (x : R) : R :=
  if in_dec Req_EM_T x (kinks a) then d else slope_right a x.

(** * Breakpoint counting *)

Lemma nbelow_cons (c : R) (l : list R) (x : R) :
  nbelow (c :: l) x = ((if Rlt_dec c x then 1 else 0) + nbelow l x)%nat.
Proof. unfold nbelow; simpl; destruct (Rlt_dec c x); reflexivity. Qed.

Lemma nle_cons (c : R) (l : list R) (x : R) :
  nle (c :: l) x = ((if Rle_dec c x then 1 else 0) + nle l x)%nat.
Proof. unfold nle; simpl; destruct (Rle_dec c x); reflexivity. Qed.

Lemma nbelow_nle_not_in (l : list R) (x : R) : ~ In x l -> nbelow l x = nle l x.
Proof.
  induction l as [|c l IH]; intros Hn; [reflexivity|].
  rewrite nbelow_cons, nle_cons, IH by (intro; apply Hn; now right).
  assert (c <> x) by (intro; apply Hn; now left).
  destruct (Rlt_dec c x), (Rle_dec c x); try lra; reflexivity.
Qed.

Lemma nbelow_nth (l : list R) (i : nat) :
  StronglySorted Rlt l -> (i < length l)%nat -> nbelow l (nth i l 0) = i.
Proof.
  revert i; induction l as [|c l IH]; intros i Hs Hi; simpl in Hi; [lia|].
  inversion Hs as [|? ? Hl Hf]; subst.
  rewrite Forall_forall in Hf.
  destruct i as [|i]; simpl nth; rewrite nbelow_cons.
  - destruct (Rlt_dec c c); [lra|]. simpl.
    clear IH Hs Hl Hi; induction l as [|c' l IHl]; [reflexivity|].
    rewrite nbelow_cons. destruct (Rlt_dec c' c).
    + assert (c < c') by (apply Hf; now left). lra.
    + apply IHl. intros y Hy; apply Hf; now right.
  - assert (c < nth i l 0) by (apply Hf, nth_In; lia).
    destruct (Rlt_dec c (nth i l 0)); [|lra].
    rewrite IH by (auto; lia). reflexivity.
Qed.

Lemma nle_nth (l : list R) (i : nat) :
  StronglySorted Rlt l -> (i < length l)%nat -> nle l (nth i l 0) = S i.
Proof.
  revert i; induction l as [|c l IH]; intros i Hs Hi; simpl in Hi; [lia|].
  inversion Hs as [|? ? Hl Hf]; subst.
  rewrite Forall_forall in Hf.
  destruct i as [|i]; simpl nth; rewrite nle_cons.
  - destruct (Rle_dec c c); [|lra]. simpl. f_equal.
    clear IH Hs Hl Hi; induction l as [|c' l IHl]; [reflexivity|].
    rewrite nle_cons. destruct (Rle_dec c' c).
    + assert (c < c') by (apply Hf; now left). lra.
    + apply IHl. intros y Hy; apply Hf; now right.
  - assert (c < nth i l 0) by (apply Hf, nth_In; lia).
    destruct (Rle_dec c (nth i l 0)); [|lra].
    rewrite IH by (auto; lia). reflexivity.
Qed.

Lemma bps_strongly_sorted (a : activation) : StronglySorted Rlt (bps a).
Proof. apply Sorted_StronglySorted; [intros x y z; lra | apply bps_sorted]. Qed.

Lemma bps_NoDup (a : activation) : NoDup (bps a).
Proof.
  generalize (bps_strongly_sorted a); induction (bps a) as [|c l IH]; intros Hs;
    constructor; inversion Hs as [|? ? Hl Hf]; subst; auto.
  rewrite Forall_forall in Hf; intros Hin; specialize (Hf c Hin); lra.
Qed.

(* points near x on the right see the pieces of index nle l x *)
Lemma nbelow_right_locally (l : list R) (x : R) :
  exists d, 0 < d /\ forall y, x < y < x + d -> nbelow l y = nle l x.
Proof.
  induction l as [|c l [d [Hd IH]]].
  - exists 1; split; [lra | reflexivity].
  - destruct (Rle_dec c x).
    + exists d; split; [lra|]; intros y Hy.
      rewrite nbelow_cons, nle_cons, IH by lra.
      destruct (Rlt_dec c y), (Rle_dec c x); try lra; reflexivity.
    + exists (Rmin d (c - x)); split; [apply Rmin_glb_lt; lra|]; intros y Hy.
      assert (y < x + d /\ y < c) as [H1 H2]
        by (split; [generalize (Rmin_l d (c - x)) | generalize (Rmin_r d (c - x))]; lra).
      rewrite nbelow_cons, nle_cons, IH by lra.
      destruct (Rlt_dec c y), (Rle_dec c x); try lra; reflexivity.
Qed.

(* points near x on the left (x included) see the piece of index nbelow l x *)
Lemma nbelow_left_locally (l : list R) (x : R) :
  exists d, 0 < d /\ forall y, x - d < y <= x -> nbelow l y = nbelow l x.
Proof.
  induction l as [|c l [d [Hd IH]]].
  - exists 1; split; [lra | reflexivity].
  - destruct (Rlt_dec c x).
    + exists (Rmin d (x - c)); split; [apply Rmin_glb_lt; lra|]; intros y Hy.
      assert (x - d < y /\ c < y) as [H1 H2]
        by (split; [generalize (Rmin_l d (x - c)) | generalize (Rmin_r d (x - c))]; lra).
      rewrite !nbelow_cons, IH by lra.
      destruct (Rlt_dec c y), (Rlt_dec c x); try lra; reflexivity.
    + exists d; split; [lra|]; intros y Hy.
      rewrite !nbelow_cons, IH by lra.
      destruct (Rlt_dec c y), (Rlt_dec c x); try lra; reflexivity.
Qed.

(** * Pieces around a point *)

Lemma act_eval_left_pieces (a : activation) (x : R) :
  exists d, 0 < d /\ forall y, x - d < y <= x -> act_eval a y = piece a (left_piece a x) y.
Proof.
  destruct (nbelow_left_locally (bps a) x) as [d [Hd H]].
  exists d; split; [exact Hd|]; intros y Hy; unfold act_eval, left_piece; now rewrite H.
Qed.

Lemma act_eval_right_pieces (a : activation) (x : R) :
  exists d, 0 < d /\ forall y, x < y < x + d -> act_eval a y = piece a (right_piece a x) y.
Proof.
  destruct (nbelow_right_locally (bps a) x) as [d [Hd H]].
  exists d; split; [exact Hd|]; intros y Hy; unfold act_eval, right_piece; now rewrite H.
Qed.

(* both neighbouring pieces take the value act_eval a x at x *)
Lemma left_piece_at (a : activation) (x : R) : piece a (left_piece a x) x = act_eval a x.
Proof. reflexivity. Qed.

Lemma right_piece_at (a : activation) (x : R) : piece a (right_piece a x) x = act_eval a x.
Proof.
  unfold act_eval, right_piece.
  destruct (in_dec Req_EM_T x (bps a)) as [Hin|Hn].
  - destruct (In_nth (bps a) x 0 Hin) as [i [Hi Hx]]; subst x.
    rewrite nbelow_nth, nle_nth by (auto using bps_strongly_sorted).
    symmetry; now apply piece_agree.
  - now rewrite nbelow_nle_not_in.
Qed.

Lemma left_right_piece_not_bp (a : activation) (x : R) :
  ~ In x (bps a) -> left_piece a x = right_piece a x.
Proof. apply nbelow_nle_not_in. Qed.

Lemma left_piece_bp (a : activation) (i : nat) :
  (i < length (bps a))%nat -> left_piece a (nth i (bps a) 0) = i.
Proof. intros; apply nbelow_nth; auto using bps_strongly_sorted. Qed.

Lemma right_piece_bp (a : activation) (i : nat) :
  (i < length (bps a))%nat -> right_piece a (nth i (bps a) 0) = S i.
Proof. intros; apply nle_nth; auto using bps_strongly_sorted. Qed.

(** * Continuity *)

Lemma piece_continuous (a : activation) (i : nat) (x : R) : continuous (piece a i) x.
Proof. apply (ex_derive_continuous (K := R_AbsRing) (V := R_NormedModule)); eexists; apply piece_derive. Qed.

Lemma piece_eps_delta (a : activation) (i : nat) (x eps : R) : 0 < eps ->
  exists d, 0 < d /\ forall y, Rabs (y - x) < d -> Rabs (piece a i y - piece a i x) < eps.
Proof.
  intros He.
  generalize (proj2 (continuity_pt_filterlim _ _) (piece_continuous a i x) eps He).
  intros [d [Hd H]]; exists d; split; [exact Hd|]; intros y Hy.
  destruct (Req_dec y x) as [->|Hne]; [rewrite Rminus_eq_0, Rabs_R0; exact He|].
  apply (H y); split; [split; [exact I | auto] | exact Hy].
Qed.

Lemma act_continuous (a : activation) (x : R) : continuity_pt (act_eval a) x.
Proof.
  intros eps He.
  destruct (act_eval_left_pieces a x) as [d1 [Hd1 H1]].
  destruct (act_eval_right_pieces a x) as [d2 [Hd2 H2]].
  destruct (piece_eps_delta a (left_piece a x) x eps He) as [d3 [Hd3 H3]].
  destruct (piece_eps_delta a (right_piece a x) x eps He) as [d4 [Hd4 H4]].
  exists (Rmin (Rmin d1 d2) (Rmin d3 d4)); split.
  { repeat apply Rmin_glb_lt; lra. }
  intros y [_ Hy]; simpl in Hy; unfold R_dist in Hy |- *.
  generalize (Rmin_l (Rmin d1 d2) (Rmin d3 d4)) (Rmin_r (Rmin d1 d2) (Rmin d3 d4))
    (Rmin_l d1 d2) (Rmin_r d1 d2) (Rmin_l d3 d4) (Rmin_r d3 d4); intros.
  assert (Habs : Rabs (y - x) < Rmin (Rmin d1 d2) (Rmin d3 d4)) by exact Hy.
  apply Rabs_def2 in Hy.
  destruct (Rle_dec y x).
  - rewrite H1 by lra; rewrite <- (left_piece_at a x); apply H3; lra.
  - rewrite H2 by lra; rewrite <- (right_piece_at a x); apply H4; lra.
Qed.

(** * Slopes and kinks *)

Lemma slopes_not_bp (a : activation) (x : R) :
  ~ In x (bps a) -> slope_left a x = slope_right a x.
Proof. intros H; unfold slope_left, slope_right; now rewrite left_right_piece_not_bp. Qed.

Lemma slope_left_bp (a : activation) (i : nat) : (i < length (bps a))%nat ->
  slope_left a (nth i (bps a) 0) = dpiece a i (nth i (bps a) 0).
Proof. intros; unfold slope_left; now rewrite left_piece_bp. Qed.

Lemma slope_right_bp (a : activation) (i : nat) : (i < length (bps a))%nat ->
  slope_right a (nth i (bps a) 0) = dpiece a (S i) (nth i (bps a) 0).
Proof. intros; unfold slope_right; now rewrite right_piece_bp. Qed.

Lemma kinks_spec (a : activation) (c : R) : In c (kinks a) <-> is_kink a c.
Proof.
  unfold kinks, is_kink; rewrite filter_In.
  destruct (Req_EM_T (slope_left a c) (slope_right a c)); intuition congruence.
Qed.

Lemma kinks_NoDup (a : activation) : NoDup (kinks a).
Proof. apply NoDup_filter, bps_NoDup. Qed.

Lemma kinks_incl_bps (a : activation) (c : R) : In c (kinks a) -> In c (bps a).
Proof. rewrite kinks_spec; now intros []. Qed.

Lemma not_kink_slopes (a : activation) (x : R) :
  ~ is_kink a x -> slope_left a x = slope_right a x.
Proof.
  intros H; destruct (in_dec Req_EM_T x (bps a)) as [Hin|Hn].
  - destruct (Req_EM_T (slope_left a x) (slope_right a x)); [auto|].
    exfalso; apply H; split; auto.
  - now apply slopes_not_bp.
Qed.

Lemma act_deriv_choice_kink (a : activation) (d x : R) :
  is_kink a x -> act_deriv_choice a d x = d.
Proof.
  intros H; unfold act_deriv_choice; rewrite <- kinks_spec in H.
  destruct (in_dec Req_EM_T x (kinks a)); tauto.
Qed.

Lemma act_deriv_choice_not_kink (a : activation) (d x : R) :
  ~ is_kink a x -> act_deriv_choice a d x = slope_right a x.
Proof.
  intros H; unfold act_deriv_choice; rewrite <- kinks_spec in H.
  destruct (in_dec Req_EM_T x (kinks a)); tauto.
Qed.

Lemma act_deriv_choice_not_kink_left (a : activation) (d x : R) :
  ~ is_kink a x -> act_deriv_choice a d x = slope_left a x.
Proof.
  intros H; rewrite act_deriv_choice_not_kink by exact H.
  symmetry; now apply not_kink_slopes.
Qed.

Lemma act_deriv_choice_not_bp (a : activation) (d x : R) :
  ~ In x (bps a) -> act_deriv_choice a d x = dpiece a (left_piece a x) x.
Proof.
  intros H; rewrite act_deriv_choice_not_kink_left; [reflexivity|].
  intros [Hk _]; tauto.
Qed.

(** * Piecewise-linear activations *)

Definition pl_piece (sl ic : list R) (i : nat) (x : R) : R := nth i sl 0 * x + nth i ic 0.
Definition pl_dpiece (sl : list R) (i : nat) (_ : R) : R := nth i sl 0.

Lemma pl_piece_derive (sl ic : list R) (i : nat) (x : R) :
  is_derive (pl_piece sl ic i) x (pl_dpiece sl i x).
Proof.
  unfold pl_piece, pl_dpiece; auto_derive; [exact I | ring].
Qed.

Lemma pl_dpiece_cont (sl : list R) (i : nat) (x : R) : continuous (pl_dpiece sl i) x.
Proof. apply continuous_const. Qed.

Definition pl_agree (c sl ic : list R) : Prop :=
  forall i, (i < length c)%nat ->
    pl_piece sl ic i (nth i c 0) = pl_piece sl ic (S i) (nth i c 0).

(* breakpoints c, slopes sl and intercepts ic of the pieces *)
Definition mk_pl (c sl ic : list R) (Hs : Sorted Rlt c) (Ha : pl_agree c sl ic) : activation :=
  {| bps := c; piece := pl_piece sl ic; dpiece := pl_dpiece sl;
     bps_sorted := Hs; piece_derive := pl_piece_derive sl ic;
     dpiece_cont := pl_dpiece_cont sl; piece_agree := Ha |}.

Ltac solve_sorted := repeat constructor; lra.
Ltac solve_agree :=
  let i := fresh "i" in let Hi := fresh "Hi" in
  intros i Hi; simpl in Hi; unfold pl_piece;
  do 3 (destruct i as [|i]; [simpl; first [lra | ring | (exfalso; lia)]|]); lia.

Lemma sorted_nil : Sorted Rlt []. Proof. constructor. Qed.
Lemma sorted_0 : Sorted Rlt [0]. Proof. solve_sorted. Qed.
Lemma sorted_m1_1 : Sorted Rlt [-1; 1]. Proof. solve_sorted. Qed.
Lemma sorted_0_6 : Sorted Rlt [0; 6]. Proof. solve_sorted. Qed.
Lemma sorted_m3_3 : Sorted Rlt [-3; 3]. Proof. solve_sorted. Qed.

Lemma agree_id : pl_agree [] [1] [0]. Proof. solve_agree. Qed.
Lemma agree_relu : pl_agree [0] [0; 1] [0; 0]. Proof. solve_agree. Qed.
Lemma agree_leaky (s : R) : pl_agree [0] [s; 1] [0; 0]. Proof. solve_agree. Qed.
Lemma agree_hardtanh : pl_agree [-1; 1] [0; 1; 0] [-1; 0; 1]. Proof. solve_agree. Qed.
Lemma agree_relu6 : pl_agree [0; 6] [0; 1; 0] [0; 0; 6]. Proof. solve_agree. Qed.
Lemma agree_hardsigmoid : pl_agree [-3; 3] [0; 1/6; 0] [0; 1/2; 1]. Proof. solve_agree. Qed.
Lemma agree_abs : pl_agree [0] [-1; 1] [0; 0]. Proof. solve_agree. Qed.

Definition act_id : activation := mk_pl [] [1] [0] sorted_nil agree_id.
Definition relu : activation := mk_pl [0] [0; 1] [0; 0] sorted_0 agree_relu.
(* leaky_relu a: slope s on the left; the kink statement assumes 0 < s < 1 *)
Definition leaky_relu (s : R) : activation := mk_pl [0] [s; 1] [0; 0] sorted_0 (agree_leaky s).
Definition hardtanh : activation :=
  mk_pl [-1; 1] [0; 1; 0] [-1; 0; 1] sorted_m1_1 agree_hardtanh.
Definition relu6 : activation := mk_pl [0; 6] [0; 1; 0] [0; 0; 6] sorted_0_6 agree_relu6.
Definition hardsigmoid : activation :=
  mk_pl [-3; 3] [0; 1/6; 0] [0; 1/2; 1] sorted_m3_3 agree_hardsigmoid.
Definition abs_act : activation := mk_pl [0] [-1; 1] [0; 0] sorted_0 agree_abs.

(** * Instances: values and kinks *)

Ltac solve_dec :=
  repeat match goal with
  | |- context [Rlt_dec ?a ?b] => destruct (Rlt_dec a b); try lra
  | |- context [Rle_dec ?a ?b] => destruct (Rle_dec a b); try lra
  end.

Ltac solve_kinks :=
  unfold kinks, slope_left, slope_right, left_piece, right_piece, nbelow, nle; simpl;
  unfold pl_dpiece; solve_dec; simpl;
  repeat match goal with
  | |- context [Req_EM_T ?a ?b] => destruct (Req_EM_T a b); try lra
  end; reflexivity.

Lemma act_id_eval (x : R) : act_eval act_id x = x.
Proof. unfold act_eval; simpl; unfold pl_piece; simpl; ring. Qed.

Lemma act_id_kinks : kinks act_id = [].
Proof. reflexivity. Qed.

Lemma act_id_deriv (d x : R) : act_deriv_choice act_id d x = 1.
Proof. reflexivity. Qed.

Lemma relu_eval (x : R) : act_eval relu x = Rmax 0 x.
Proof.
  unfold act_eval, nbelow; simpl; unfold pl_piece.
  unfold Rmax; solve_dec; simpl; lra.
Qed.

Lemma relu_kinks : kinks relu = [0].
Proof. solve_kinks. Qed.

Lemma leaky_relu_kinks (s : R) : s <> 1 -> kinks (leaky_relu s) = [0].
Proof. intros; solve_kinks. Qed.

Lemma leaky_relu_kinks_std (s : R) : 0 < s < 1 -> kinks (leaky_relu s) = [0].
Proof. intros; apply leaky_relu_kinks; lra. Qed.

Lemma hardtanh_kinks : kinks hardtanh = [-1; 1].
Proof. solve_kinks. Qed.

Lemma relu6_kinks : kinks relu6 = [0; 6].
Proof. solve_kinks. Qed.

Lemma hardsigmoid_kinks : kinks hardsigmoid = [-3; 3].
Proof. solve_kinks. Qed.

Lemma abs_kinks : kinks abs_act = [0].
Proof. solve_kinks. Qed.

Lemma relu_slopes_0 : slope_left relu 0 = 0 /\ slope_right relu 0 = 1.
Proof.
  unfold slope_left, slope_right, left_piece, right_piece, nbelow, nle; simpl.
  unfold pl_dpiece; solve_dec; simpl; lra.
Qed.

Lemma relu_is_kink (c : R) : is_kink relu c <-> c = 0.
Proof. rewrite <- kinks_spec, relu_kinks; simpl; intuition. Qed.

(* relu with the PyTorch choice relu'(0) = 0 *)
Lemma relu_deriv_choice_0 : act_deriv_choice relu 0 0 = 0.
Proof. apply act_deriv_choice_kink, relu_is_kink; reflexivity. Qed.

(** * A single piece as a smooth activation (for selection networks) *)

Lemma nil_agree (f : nat -> R -> R) : forall i, (i < length (@nil R))%nat ->
  f i (nth i (@nil R) 0) = f (S i) (nth i (@nil R) 0).
Proof. intros i Hi; simpl in Hi; lia. Qed.

(* piece i of a, used on all of R: no breakpoints *)
Definition act_of_piece (a : activation) (i : nat) : activation :=
  {| bps := []; piece := fun _ => piece a i; dpiece := fun _ => dpiece a i;
     bps_sorted := sorted_nil;
     piece_derive := fun _ x => piece_derive a i x;
     dpiece_cont := fun _ x => dpiece_cont a i x;
     piece_agree := nil_agree (fun _ => piece a i) |}.

Lemma act_of_piece_eval (a : activation) (i : nat) (x : R) :
  act_eval (act_of_piece a i) x = piece a i x.
Proof. reflexivity. Qed.

Lemma act_of_piece_kinks (a : activation) (i : nat) : kinks (act_of_piece a i) = [].
Proof. reflexivity. Qed.

Lemma act_of_piece_deriv (a : activation) (i : nat) (d x : R) :
  act_deriv_choice (act_of_piece a i) d x = dpiece a i x.
Proof. reflexivity. Qed.

(* the pieces whose closed interval contains x are the left and the right one *)
Definition piece_at (a : activation) (x : R) (i : nat) : Prop :=
  i = left_piece a x \/ i = right_piece a x.

Lemma piece_at_eval (a : activation) (x : R) (i : nat) :
  piece_at a x i -> piece a i x = act_eval a x.
Proof. intros [->| ->]; [apply left_piece_at | apply right_piece_at]. Qed.

(* off kinks, every piece at x has the slope used by AD *)
Lemma piece_at_slope_not_kink (a : activation) (x d : R) (i : nat) :
  piece_at a x i -> ~ is_kink a x -> dpiece a i x = act_deriv_choice a d x.
Proof.
  intros [->| ->] Hk.
  - rewrite act_deriv_choice_not_kink_left by exact Hk; reflexivity.
  - rewrite act_deriv_choice_not_kink by exact Hk; reflexivity.
Qed.

(* near x, the left piece at y is one of the pieces at x *)
Lemma left_piece_near (a : activation) (x : R) :
  exists d, 0 < d /\ forall y, Rabs (y - x) < d -> piece_at a x (left_piece a y).
Proof.
  destruct (nbelow_left_locally (bps a) x) as [d1 [Hd1 H1]].
  destruct (nbelow_right_locally (bps a) x) as [d2 [Hd2 H2]].
  exists (Rmin d1 d2); split; [apply Rmin_glb_lt; assumption|]; intros y Hy.
  generalize (Rmin_l d1 d2) (Rmin_r d1 d2); intros; apply Rabs_def2 in Hy.
  unfold piece_at, left_piece, right_piece; destruct (Rle_dec y x).
  - left; apply H1; lra.
  - right; apply H2; lra.
Qed.

(** * More instances of the table of THEORY.md section 2 *)

(* the one-sided slopes at a point, unfolded to the pieces' derivatives *)
Ltac solve_slopes :=
  unfold slope_left, slope_right, left_piece, right_piece, nbelow, nle; simpl;
  solve_dec; simpl; try unfold pl_dpiece; simpl; first [lra | field].

(** hardswish(x) = x * relu6(x + 3) / 6, quadratic in the middle: 0 on
    (-inf, -3], x (x + 3) / 6 on [-3, 3], x on [3, inf) *)

Definition hardswish_piece (i : nat) (x : R) : R :=
  match i with O => 0 | 1%nat => x * (x + 3) / 6 | _ => x end.
Definition hardswish_dpiece (i : nat) (x : R) : R :=
  match i with O => 0 | 1%nat => (2 * x + 3) / 6 | _ => 1 end.

Lemma hardswish_piece_derive (i : nat) (x : R) :
  is_derive (hardswish_piece i) x (hardswish_dpiece i x).
Proof.
  destruct i as [|[|i]]; simpl.
  - apply is_derive_Reals, derivable_pt_lim_const.
  - change (is_derive (fun x : R => x * (x + 3) / 6) x ((2 * x + 3) / 6)).
    auto_derive; [exact I | field].
  - apply is_derive_Reals, derivable_pt_lim_id.
Qed.

Lemma hardswish_dpiece_cont (i : nat) (x : R) : continuous (hardswish_dpiece i) x.
Proof.
  destruct i as [|[|i]]; simpl; try apply continuous_const.
  apply (ex_derive_continuous (K := R_AbsRing) (V := R_NormedModule)).
  change (ex_derive (fun x : R => (2 * x + 3) / 6) x); auto_derive; exact I.
Qed.

Lemma hardswish_agree : forall i, (i < 2)%nat ->
  hardswish_piece i (nth i [-3; 3] 0) = hardswish_piece (S i) (nth i [-3; 3] 0).
Proof. intros i Hi; destruct i as [|[|i]]; simpl; try lia; field. Qed.

Definition hardswish : activation :=
  {| bps := [-3; 3]; piece := hardswish_piece; dpiece := hardswish_dpiece;
     bps_sorted := sorted_m3_3; piece_derive := hardswish_piece_derive;
     dpiece_cont := hardswish_dpiece_cont; piece_agree := hardswish_agree |}.

(* Rmin 6 (Rmax 0 x) by cases *)
Ltac clip_cases x :=
  destruct (Rlt_le_dec x 0); [rewrite (Rmax_left 0 x), (Rmin_right 6 0) by lra |
  destruct (Rle_lt_dec x 6); [rewrite (Rmax_right 0 x), (Rmin_right 6 x) by lra |
                              rewrite (Rmax_right 0 x), (Rmin_left 6 x) by lra]].

Lemma relu6_eval (x : R) : act_eval relu6 x = Rmin 6 (Rmax 0 x).
Proof.
  unfold act_eval, nbelow; simpl; unfold pl_piece.
  clip_cases x; solve_dec; simpl; lra.
Qed.

Lemma hardsigmoid_eval (x : R) : act_eval hardsigmoid x = act_eval relu6 (x + 3) / 6.
Proof.
  rewrite relu6_eval; unfold act_eval, nbelow; simpl; unfold pl_piece.
  clip_cases (x + 3); solve_dec; simpl; lra.
Qed.

(* PyTorch's definition: hardswish(x) = x * relu6(x + 3) / 6 = x * hardsigmoid(x) *)
Lemma hardswish_eval (x : R) : act_eval hardswish x = x * act_eval relu6 (x + 3) / 6.
Proof.
  rewrite relu6_eval; unfold act_eval, nbelow; simpl.
  clip_cases (x + 3); solve_dec; simpl;
    first [field | replace x with (-3) by lra; field].
Qed.

Lemma hardswish_eval_hardsigmoid (x : R) : act_eval hardswish x = x * act_eval hardsigmoid x.
Proof. rewrite hardswish_eval, hardsigmoid_eval; field. Qed.

Lemma hardswish_kinks : kinks hardswish = [-3; 3].
Proof.
  unfold kinks, slope_left, slope_right, left_piece, right_piece, nbelow, nle; simpl.
  solve_dec; simpl.
  repeat match goal with
  | |- context [Req_EM_T ?a ?b] => destruct (Req_EM_T a b); try lra
  end; reflexivity.
Qed.

(* (left, right) slopes: (0, -1/2) at -3 and (3/2, 1) at 3 *)
Lemma hardswish_slopes :
  slope_left hardswish (-3) = 0 /\ slope_right hardswish (-3) = -1/2 /\
  slope_left hardswish 3 = 3/2 /\ slope_right hardswish 3 = 1.
Proof. repeat split; solve_slopes. Qed.

(** softshrink(l), l > 0: x + l on (-inf, -l], 0 on [-l, l], x - l on [l, inf) *)

Lemma sorted_softshrink (l : posreal) : Sorted Rlt [- l; pos l].
Proof. pose proof (cond_pos l); solve_sorted. Qed.

Lemma agree_softshrink (l : R) : pl_agree [- l; l] [1; 0; 1] [l; 0; - l].
Proof. solve_agree. Qed.

Definition softshrink (l : posreal) : activation :=
  mk_pl [- l; pos l] [1; 0; 1] [pos l; 0; - l] (sorted_softshrink l) (agree_softshrink l).

Lemma softshrink_eval (l : posreal) (x : R) :
  (x < - l -> act_eval (softshrink l) x = x + l) /\
  (- l <= x <= l -> act_eval (softshrink l) x = 0) /\
  (l < x -> act_eval (softshrink l) x = x - l).
Proof.
  pose proof (cond_pos l).
  unfold act_eval, nbelow; simpl; unfold pl_piece.
  repeat split; intros; solve_dec; simpl; lra.
Qed.

Lemma softshrink_kinks (l : posreal) : kinks (softshrink l) = [- l; pos l].
Proof. pose proof (cond_pos l); solve_kinks. Qed.

(* (left, right) slopes: (1, 0) at -l and (0, 1) at l *)
Lemma softshrink_slopes (l : posreal) :
  slope_left (softshrink l) (- l) = 1 /\ slope_right (softshrink l) (- l) = 0 /\
  slope_left (softshrink l) l = 0 /\ slope_right (softshrink l) l = 1.
Proof. pose proof (cond_pos l); repeat split; solve_slopes. Qed.

(** The slopes of the other instances of the table *)

Lemma leaky_relu_slopes (s : R) : slope_left (leaky_relu s) 0 = s /\ slope_right (leaky_relu s) 0 = 1.
Proof. split; solve_slopes. Qed.

Lemma hardtanh_slopes :
  slope_left hardtanh (-1) = 0 /\ slope_right hardtanh (-1) = 1 /\
  slope_left hardtanh 1 = 1 /\ slope_right hardtanh 1 = 0.
Proof. repeat split; solve_slopes. Qed.

Lemma relu6_slopes :
  slope_left relu6 0 = 0 /\ slope_right relu6 0 = 1 /\
  slope_left relu6 6 = 1 /\ slope_right relu6 6 = 0.
Proof. repeat split; solve_slopes. Qed.

Lemma hardsigmoid_slopes :
  slope_left hardsigmoid (-3) = 0 /\ slope_right hardsigmoid (-3) = 1/6 /\
  slope_left hardsigmoid 3 = 1/6 /\ slope_right hardsigmoid 3 = 0.
Proof. repeat split; solve_slopes. Qed.

Lemma abs_slopes : slope_left abs_act 0 = -1 /\ slope_right abs_act 0 = 1.
Proof. split; solve_slopes. Qed.
