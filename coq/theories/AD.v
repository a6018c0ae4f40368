(* Reverse-mode AD with a derivative choice (THEORY.md section 4) and the
   counterexample network of T5(a) (THEORY.md section 5).  A choice
   D : nat -> R gives the number used at neuron k when y_k(w) is a kink of
   sigma_k.  Adjoints, computed from the top neuron down:
     zbar_k = dg/dz_k + sum_(j>k) ybar_j * dtau_j/dz_k
     ybar_k = zbar_k * D sigma_k (y_k)
     AD_D f(w)_p = dg/dw_p + sum_k ybar_k * dtau_k/dw_p
   and NS(w): some kink neuron has a non-zero adjoint zbar_k. *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Activation Network.
Import ListNotations.
Open Scope R_scope.

Definition sum_list (l : list R) : R := fold_right Rplus 0 l.

(** * Definitions *)

Section AD.
Variable net : network.

(* D sigma_k (y_k(w)) with the choice D k at a kink *)
Definition dchoice (D : nat -> R) (w : vec) (k : nat) : R :=
  act_deriv_choice (sigma net k) (D k) (preact net w k).

(* zbar_k from the adjoints yb_j of the neurons j > k *)
Definition zbar_from (w : vec) (yb : nat -> R) (k : nat) : R :=
  eval (n_input net) w (zvec net w) (dneuron k (n_out net)) +
  sum_list (map (fun j => yb j * eval (n_input net) w (zvec net w) (dneuron k (tau net j)))
                (seq (S k) (n_size net - S k))).

(* adjoints ybar_j of the top m neurons j >= N - m (0 below) *)
Fixpoint ybars (D : nat -> R) (w : vec) (m : nat) : nat -> R :=
  match m with
  | O => fun _ => 0
  | S m' => let yb := ybars D w m' in
      fun j => if Nat.eq_dec j (n_size net - S m') then zbar_from w yb j * dchoice D w j
               else yb j
  end.

Definition ybar (D : nat -> R) (w : vec) (k : nat) : R := ybars D w (n_size net) k.
Definition zbar (D : nat -> R) (w : vec) (k : nat) : R := zbar_from w (ybar D w) k.

(* AD_D f(w), coordinate p *)
Definition ad (D : nat -> R) (w : vec) (p : nat) : R :=
  eval (n_input net) w (zvec net w) (dparam p (n_out net)) +
  sum_list (map (fun k => ybar D w k * eval (n_input net) w (zvec net w) (dparam p (tau net k)))
                (seq 0 (n_size net))).

Definition NS (D : nat -> R) (w : vec) : Prop :=
  exists k, In k (kink_neurons net w) /\ zbar D w k <> 0.

(** * The adjoint recursion *)

Lemma sum_list_map_ext {A : Type} (f g : A -> R) (l : list A) :
  (forall a, In a l -> f a = g a) -> sum_list (map f l) = sum_list (map g l).
Proof. intros H; f_equal; now apply map_ext_in. Qed.

Lemma sum_list_map_zero {A : Type} (f : A -> R) (l : list A) :
  (forall a, In a l -> f a = 0) -> sum_list (map f l) = 0.
Proof.
  induction l as [|a l IH]; intros H; unfold sum_list in *; simpl; [reflexivity|].
  rewrite H, IH; [ring | intros b Hb; apply H; now right | now left].
Qed.

Lemma zbar_from_ext (w : vec) (yb yb' : nat -> R) (k : nat) :
  (forall j, (k < j < n_size net)%nat -> yb j = yb' j) ->
  zbar_from w yb k = zbar_from w yb' k.
Proof.
  intros H; unfold zbar_from; f_equal; apply sum_list_map_ext.
  intros j Hj; apply in_seq in Hj; rewrite H by lia; reflexivity.
Qed.

Lemma ybars_below (D : nat -> R) (w : vec) (m j : nat) :
  (m <= n_size net)%nat -> (j < n_size net - m)%nat -> ybars D w m j = 0.
Proof.
  induction m as [|m IH]; intros Hm Hj; simpl; [reflexivity|].
  destruct (Nat.eq_dec j (n_size net - S m)); [lia|]. apply IH; lia.
Qed.

Lemma ybars_stable (D : nat -> R) (w : vec) (m m' j : nat) :
  (m <= m' <= n_size net)%nat -> (n_size net - m <= j)%nat ->
  ybars D w m' j = ybars D w m j.
Proof.
  intros [Hm Hm'] Hj; induction Hm as [|m' Hm IH]; [reflexivity|]; simpl.
  destruct (Nat.eq_dec j (n_size net - S m')); [lia|]. apply IH; lia.
Qed.

(* the defining equations of the adjoints *)
Lemma zbar_eq (D : nat -> R) (w : vec) (k : nat) :
  zbar D w k = eval (n_input net) w (zvec net w) (dneuron k (n_out net)) +
    sum_list (map (fun j => ybar D w j * eval (n_input net) w (zvec net w) (dneuron k (tau net j)))
                  (seq (S k) (n_size net - S k))).
Proof. reflexivity. Qed.

Lemma ybar_eq (D : nat -> R) (w : vec) (k : nat) :
  (k < n_size net)%nat -> ybar D w k = zbar D w k * dchoice D w k.
Proof.
  intros Hk; unfold ybar, zbar.
  destruct (n_size net - k)%nat as [|m0] eqn:Hm; [lia|].
  rewrite (ybars_stable D w (S m0) (n_size net) k) by lia; simpl.
  destruct (Nat.eq_dec k (n_size net - S m0)); [|lia].
  f_equal; apply zbar_from_ext; intros j Hj.
  symmetry; apply ybars_stable; lia.
Qed.

(** * Dependence on the choices *)

Lemma ybars_depends_on_choices_above (D D' : nat -> R) (w : vec) (k : nat) :
  (forall j, (k < j)%nat -> D j = D' j) ->
  forall m j, (k < j)%nat -> ybars D w m j = ybars D' w m j.
Proof.
  intros HD m; induction m as [|m IH]; intros j Hj; simpl; [reflexivity|].
  destruct (Nat.eq_dec j (n_size net - S m)); [|apply IH; exact Hj].
  unfold dchoice; rewrite HD by exact Hj; f_equal.
  apply zbar_from_ext; intros i Hi; apply IH; lia.
Qed.

(* the adjoint of neuron k only depends on the choices at neurons above k *)
Lemma zbar_depends_on_choices_above (D D' : nat -> R) (w : vec) (k : nat) :
  (forall j, (k < j)%nat -> D j = D' j) -> zbar D w k = zbar D' w k.
Proof.
  intros HD; apply zbar_from_ext; intros j Hj.
  apply (ybars_depends_on_choices_above D D' w k HD); lia.
Qed.

Lemma ybar_depends_on_choices_from (D D' : nat -> R) (w : vec) (k : nat) :
  (forall j, (k <= j)%nat -> D j = D' j) -> ybar D w k = ybar D' w k.
Proof.
  intros HD; destruct (Nat.lt_ge_cases k (n_size net)) as [Hk|Hk].
  - rewrite !ybar_eq by exact Hk.
    rewrite (zbar_depends_on_choices_above D D') by (intros; apply HD; lia).
    unfold dchoice; rewrite HD by lia; reflexivity.
  - destruct k as [|k].
    + (* no neurons *) unfold ybar; assert (n_size net = 0%nat) as -> by lia; reflexivity.
    + apply (ybars_depends_on_choices_above D D' w k); [intros; apply HD; lia | lia].
Qed.

(* the choice at a non-kink neuron is irrelevant *)
Lemma dchoice_not_kink (D : nat -> R) (w : vec) (k : nat) :
  ~ is_kink (sigma net k) (preact net w k) ->
  dchoice D w k = slope_right (sigma net k) (preact net w k).
Proof. apply act_deriv_choice_not_kink. Qed.

Lemma dchoice_kink (D : nat -> R) (w : vec) (k : nat) :
  is_kink (sigma net k) (preact net w k) -> dchoice D w k = D k.
Proof. apply act_deriv_choice_kink. Qed.

End AD.

(** * T5(a): AD can be wrong without bias parameters *)

(* input x = 1; z_0 = a*x (identity), y_1 = v_1 z_0, y_2 = v_2 z_0, relu on
   both, f = z_1 - z_2; parameters (a, v_1, v_2) = (w 0, w 1, w 2) *)
Definition T5a : network := {|
  n_params := 3;
  n_input := fun _ => 1;
  n_neurons := [ (EMul (EParam 0) (EInput 0), act_id);
                 (EMul (EParam 1) (ENeuron 0), relu);
                 (EMul (EParam 2) (ENeuron 0), relu) ];
  n_out := EAdd (ENeuron 1) (EMul (EConst (-1)) (ENeuron 2)) |}.

Definition T5a_w0 : vec := fun i => match i with 1%nat => 1 | 2%nat => -1 | _ => 0 end.

(* PyTorch's relu'(0) = 0 (the choice is only used at kinks) *)
Definition T5a_D : nat -> R := fun _ => 0.

Lemma T5a_wf : wf T5a.
Proof.
  unfold wf, neurons_below, params_below, n_size; simpl.
  split; [|split].
  - intros k Hk; destruct k as [|[|[|k]]]; simpl; split; intros j Hj; simpl in Hj; lia.
  - intros j Hj; simpl in Hj; lia.
  - intros q Hq; simpl in Hq; lia.
Qed.

Ltac T5a_simpl := unfold preact, post, net_eval, zvec, tau, sigma, n_size;
  cbn [T5a n_neurons n_input n_out length nth fst snd eval].

Lemma T5a_sigma0 : sigma T5a 0 = act_id. Proof. reflexivity. Qed.
Lemma T5a_sigma1 : sigma T5a 1 = relu. Proof. reflexivity. Qed.
Lemma T5a_sigma2 : sigma T5a 2 = relu. Proof. reflexivity. Qed.

(* the outputs along the line w0 + t e_0 (t = 0 gives w0 itself) *)
Lemma T5a_post0 (t : R) : post T5a (upd T5a_w0 0 t) 0 = t.
Proof. unfold post; rewrite T5a_sigma0, act_id_eval; T5a_simpl; unfold upd; simpl; ring. Qed.

Lemma T5a_preact1 (t : R) : preact T5a (upd T5a_w0 0 t) 1 = t.
Proof.
  T5a_simpl; rewrite zvals_lt by lia; fold (post T5a (upd T5a_w0 0 t) 0).
  rewrite T5a_post0; unfold upd; simpl; ring.
Qed.

Lemma T5a_preact2 (t : R) : preact T5a (upd T5a_w0 0 t) 2 = - t.
Proof.
  T5a_simpl; rewrite zvals_lt by lia; fold (post T5a (upd T5a_w0 0 t) 0).
  rewrite T5a_post0; unfold upd; simpl; ring.
Qed.

Lemma T5a_w0_upd (i : nat) : upd T5a_w0 0 0 i = T5a_w0 i.
Proof. unfold upd; destruct (Nat.eq_dec i 0) as [->|]; reflexivity. Qed.

Lemma T5a_preact_w0 (k : nat) : (1 <= k < 3)%nat -> preact T5a T5a_w0 k = 0.
Proof.
  intros Hk; rewrite (preact_ext T5a T5a_w0 (upd T5a_w0 0 0)) by (intros; symmetry; apply T5a_w0_upd).
  destruct k as [|[|[|k]]]; try lia; [rewrite T5a_preact1 | rewrite T5a_preact2]; ring.
Qed.

Lemma T5a_ad_zero (p : nat) : ad T5a T5a_D T5a_w0 p = 0.
Proof.
  assert (Hd : forall k, (1 <= k)%nat -> (k < 3)%nat -> dchoice T5a T5a_D T5a_w0 k = 0).
  { intros k H1 H3; unfold dchoice.
    rewrite T5a_preact_w0 by lia.
    destruct k as [|[|[|k]]]; try lia; apply relu_deriv_choice_0. }
  assert (Hy12 : forall k, (1 <= k)%nat -> (k < 3)%nat -> ybar T5a T5a_D T5a_w0 k = 0).
  { intros k H1 H3; rewrite ybar_eq, Hd by (auto; unfold n_size; simpl; lia); ring. }
  assert (Hy0 : ybar T5a T5a_D T5a_w0 0 = 0).
  { rewrite ybar_eq by (unfold n_size; simpl; lia).
    rewrite zbar_eq; unfold n_size; simpl.
    rewrite !Hy12 by lia; ring. }
  unfold ad; rewrite dparam_not_occurs by (simpl; lia).
  rewrite sum_list_map_zero; [ring|].
  intros k Hk; apply in_seq in Hk; unfold n_size in Hk; simpl in Hk.
  destruct k as [|k]; [rewrite Hy0 | rewrite Hy12 by lia]; ring.
Qed.

(* f(a, 1, -1) = relu(a) - relu(-a) = a: f is differentiable in a with df/da = 1 at
   a = 0, while AD above reports 0 *)
Lemma T5a_eval_along_a (t : R) : net_eval T5a (upd T5a_w0 0 t) = t.
Proof.
  T5a_simpl; rewrite !zvals_lt by lia; unfold post.
  rewrite T5a_preact1, T5a_preact2, T5a_sigma1, T5a_sigma2, !relu_eval.
  unfold Rmax; repeat destruct Rle_dec; lra.
Qed.
